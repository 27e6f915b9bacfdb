import type { RetryOptions } from '../../core/write-group.interfaces.js';
import type { TypeCodec } from '../../cache/type-codec.js';

/**
 * What a push gets besides the newest arguments.
 * @publicApi
 */
export interface WriteRunContext {
  /** The user key being pushed. */
  readonly key: string;
  /**
   * Fencing token: strictly greater than every fence issued before for this key, so a downstream
   * that writes conditionally (`UPDATE … SET fence = $f WHERE id = $id AND fence < $f`, or an
   * ETag) rejects the late write of a runner that stalled past its lease. It is an exact integer
   * (microseconds of the issuing clock, raised by one where needed; below
   * Number.MAX_SAFE_INTEGER until the year 2255), and it stays monotonic when Redis loses the
   * key's state (restart, failover, FLUSHALL, `stateTtlMs`) as long as Redis' clock has not gone
   * back by more than that loss took. A push that runs in-process because Redis is unreachable
   * gets a fence from this instance's clock, which orders it against fleet pushes as well as the
   * clocks of the instances and of Redis agree (and after every fleet fence this instance saw).
   */
  readonly fence: number;
  /**
   * Aborted when this instance lost the key's lease mid-push, or may have: no renewal confirmed
   * it within `leaseMs` (Redis hung, or this instance's event loop stalled). Another instance may
   * push now, so check it right before you write (`signal.throwIfAborted()`, or pass it to
   * `fetch`): reading it checks the lease's deadline itself, even after a stall no timer saw.
   */
  readonly signal: AbortSignal;
}

/**
 * The push of a key: gets the newest call's arguments (decoded by the codec they travel in, so
 * Dates, Maps and instances of classes with a codec keep their type) and the context.
 * @publicApi
 */
export type WriteRun<A extends unknown[] = unknown[], T = unknown> = (
  args: A,
  context: WriteRunContext,
) => Promise<T>;

/**
 * An optional durable record of pushes, kept in the user's own database, that covers what Redis
 * alone cannot: a crash between the data commit and the event, an instance that crashed while
 * Redis was away (its in-process pushes are not re-queued), and Redis losing its state (failover
 * with async replication, eviction, FLUSHALL).
 *
 * Every push calls it, fleet-led and in-process alike, with its fence and the arguments it
 * carries. The recipe: give each pushed row `srcVersion`, `pushedVersion` and `pushedFence`.
 * - Bump `srcVersion` **in the same transaction as the data change**, so no committed change can
 *   miss it (this is the durable twin of Redis' `ver`).
 * - `started(key, fence, args)`: a push that reads the store remembers the `srcVersion` it is
 *   about to read (keyed by fence). A push that carries its arguments needs nothing here.
 * - `finished(key, fence, args)`: record the version the downstream got: the `srcVersion` read at
 *   start, or the version inside `args` (the same `version(args)` as the calls). With a fenced
 *   downstream, keep the highest fence, as it does: `UPDATE ledger SET pushedVersion = $v,
 *   pushedFence = $fence WHERE key = $key AND pushedFence < $fence`. Without fences, write it
 *   unconditionally (the last push to finish is the one that landed last).
 * - `pending()`: yield the keys where `srcVersion <> pushedVersion` and the row is older than a
 *   grace period longer than `leaseMs` (so live pushes are not chased). Yield `{ key, args }`
 *   with the store's newest arguments when the pushes carry them (Redis may hold older ones, or
 *   none); a bare key keeps the arguments Redis has.
 *
 * The sweep queues pending keys through the protocol (an event), never by pushing directly, so
 * one key still has one push at a time. Compare fences or versions, never wall clocks.
 * @publicApi
 */
export interface WriteLedger {
  /** Before each push; a throw fails that push (it is retried through the protocol). */
  started(key: string, fence: number, args: unknown[]): Promise<void>;
  /** After each successful push; a throw is logged (the sweep pushes the key again later). */
  finished(key: string, fence: number, args: unknown[]): Promise<void>;
  /** Keys whose newest state may not have reached the downstream; read by every sweep. */
  pending(): AsyncIterable<string | { key: string; args: unknown[] }>;
}

/**
 * Options of one `DistributedWriteGroup.do()` call.
 * @publicApi
 */
export interface DistributedWriteCallOptions<A extends unknown[]> {
  /**
   * The arguments of this call; the push gets the newest call's as its first argument. They cross
   * instances in the codec of the cache and the flights: plain data, Dates, Maps, Sets, Buffers,
   * BigInts and instances of the classes in `codecs`; anything else (an instance of a class without
   * a codec, a function, a cycle) fails the call with a SingleflightArgumentError.
   * @default [] (the push gets an empty list)
   * @example { args: [id, state] }
   */
  args?: A;
  /**
   * The version of the state the arguments carry (a row version, an event sequence): a finite
   * number that grows with the state. With it, Redis keeps the arguments with the highest
   * version, so the key's last push carries the newest state whatever order the calls arrive in
   * (two events sent to two instances a few ms apart can reach Redis in the other order), and
   * after an outage each instance re-queues its newest in-process arguments by version too.
   * Pushes that read the state when they start need no version.
   * @default undefined (the call that reaches Redis last wins)
   * @example { version: ([id, state]) => state.version }
   */
  version?: (args: A) => number;
}

/**
 * Options of `new DistributedWriteGroup(coordinator, options)`, or of
 * `forRoot({ redis: { writes } })`.
 * @publicApi
 */
export interface DistributedWriteOptions {
  /**
   * Prefix of every Redis key and of the wake-up channel (`${namespace}:wdone`).
   * @default 'mw'
   */
  namespace?: string;
  /**
   * How long a runner's lease lives without renewal; renewed every leaseMs/3 while it pushes. A
   * crashed runner's key is taken over about this long after the crash.
   * @default 10000
   */
  leaseMs?: number;
  /**
   * How often this instance scans Redis for keys with pending writes and no runner (a runner that
   * crashed while no other instance had seen the key); 0 turns the sweep off.
   * @default 60000
   */
  sweepEveryMs?: number;
  /**
   * The longest a caller waits for a push covering its call, after which it rejects with a
   * SingleflightTimeoutError (the write stays pending in Redis).
   * @default 30000
   */
  waitTimeoutMs?: number;
  /**
   * After a Redis error or timeout, calls skip Redis for this long and run in-process.
   * @default 5000
   */
  breakerMs?: number;
  /**
   * Added to a runner's remaining lease before this instance checks whether it crashed; a random
   * 0..recoverSlackMs more spreads the instances out.
   * @default 50
   */
  recoverSlackMs?: number;
  /**
   * Lifetime of a key's Redis state (`ver`, `done`, `fence`, newest arguments), renewed by every
   * event. After it lapses, the next fence comes from Redis' clock, still above the old ones.
   * @default 604800000 (7 days)
   */
  stateTtlMs?: number;
  /**
   * How often a failed push is tried in all on this instance before the key is left to the next
   * event or the sweep; the wait before try n+1 is `backoffMs * 2^(n-1)` (or your function). Every
   * retry goes through Redis (RECOVER), never straight to the push.
   * @default { attempts: 3, backoffMs: 100 }
   */
  retry?: RetryOptions;
  /**
   * The durable push record; see WriteLedger.
   * @default undefined (Redis alone)
   */
  ledger?: WriteLedger;
  /**
   * Detect a push that writes its own key after an `await` on this instance (it would wait for
   * the follow-up push, which waits for it, until `waitTimeoutMs`): that call rejects with a
   * SingleflightReentryError instead. Uses AsyncLocalStorage; it applies to the in-process
   * fallback too. A call before the push's first `await` is always detected. Calls through
   * another key (`a` pushes `b`, whose push writes `a`) are not. `forRoot()` passes its own
   * `detectAsyncReentry` here unless `redis.writes` sets one.
   * @default false
   */
  detectAsyncReentry?: boolean;
  /**
   * Authenticates the arguments stored in Redis: each carries an HMAC-SHA256 of itself and its
   * key, and arguments that fail verification (forged or altered by a Redis writer without the
   * secret, or copied from another key) are never pushed: the run is refused, counted in
   * `rejectedArgs` and logged once, its callers on this instance reject with a
   * SingleflightArgumentError, and the write stays pending until a call stores its own arguments.
   * The same secret on every instance; at least 16 characters. The module passes `redis.secret`.
   * @default none (arguments are trusted as Redis holds them)
   *
   * ```ts
   * new DistributedWriteGroup(coordinator, { namespace: 'orders:mw', secret: process.env.SF_SECRET });
   * ```
   */
  secret?: string;
  /**
   * How instances of your classes in the arguments cross instances (see TypeCodec); an argument
   * holding an instance of a class without a codec fails the call. Give every instance the same
   * codecs. The module passes its own `codecs`.
   * @default [] (no class instances)
   */
  codecs?: readonly TypeCodec[];
}

/**
 * Counters of one instance.
 * @publicApi
 */
export interface DistributedWriteGroupStats {
  /** Calls of do() that passed their argument checks. */
  calls: number;
  /** EVENT round trips to Redis. */
  events: number;
  /** Calls that shared another call's EVENT round trip (made while it was in flight). */
  coalesced: number;
  /** Pushes started on this instance (follow-ups and recoveries included). */
  runs: number;
  /** Pushes started because events arrived during the previous push. */
  followUps: number;
  /** Pushes started by a recovery timer, a retry or the sweep. */
  recovered: number;
  /** Pushes that threw. */
  failures: number;
  /** Pushes whose lease was lost before they finished. */
  leaseLost: number;
  /** Callers rejected after waitTimeoutMs. */
  timeouts: number;
  /** Calls that ran through the in-process WriteGroup because Redis was unreachable. */
  localFallbacks: number;
  /** Redis commands that failed or timed out, and lost connections. */
  coordinationErrors: number;
  /** Whether Redis is being skipped right now (after an error, for `breakerMs`). */
  breakerOpen: boolean;
  /**
   * Runs refused because the arguments read from Redis failed verification with `secret`, or did
   * not decode; none of them pushed.
   */
  rejectedArgs: number;
  /** Sweeps run. */
  sweeps: number;
  /** Callers now waiting for a push. */
  waiting: number;
  /** Keys this instance now tracks (waiting callers, its own push, a recovery timer). */
  size: number;
}
