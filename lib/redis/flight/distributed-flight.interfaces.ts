import type { CoordinationLog } from '../shared/coordination-link.js';

// The public types of DistributedFlight: its options, its counters and its log.
import type { TypeCodec } from '../../cache/type-codec.js';

/**
 * Timing and sharing of the distributed flights (`new DistributedFlight(coordinator, options)`, or
 * `forRoot({ redis: { flights } })`). The per-command timeout belongs to the adapter (e.g.
 * `nodeRedisAdapter(client, { opTimeoutMs })`).
 * @publicApi
 */
export interface DistributedFlightOptions {
  /** Prefix of every Redis key and of the wake-up channel; one per app (and schema version). @default 'sf' */
  namespace?: string;
  /**
   * How long (ms) a leader's lease lasts without renewal; it is renewed every `leaseMs / 3` while
   * the work runs. A crashed leader is replaced after about this long. @default 5000
   */
  leaseMs?: number;
  /**
   * How long (ms) a finished flight's result stays in Redis for the instances that waited on it;
   * with `reuseRecentResult`, also how stale a reused result may be. @default 2000
   */
  resultTtlMs?: number;
  /**
   * A flight that finished less than `resultTtlMs` ago answers new callers with its value (one
   * call for arrivals spread over a flight's length); a failed one does not (errors are shared
   * only with the callers that waited for them). false: strict Go semantics, only callers that
   * arrive while a flight runs share it. @default true
   */
  reuseRecentResult?: boolean;
  /** An instance never waits longer than this (ms) for another's flight, then runs the work itself. @default 30000 */
  waitTimeoutMs?: number;
  /** After a Redis error or timeout, Redis is skipped for this long (ms); a reconnect ends it early. @default 5000 */
  breakerMs?: number;
  /**
   * Extra wait (ms) past the leader's lease before a follower tries to take over, plus a random
   * 0..wakeSlackMs, so the followers of a crashed leader do not all retry at once. @default 50
   */
  wakeSlackMs?: number;
  /**
   * Results whose envelope is larger (bytes) are not shared: other instances run the work. An
   * envelope read from Redis larger than this is ignored before it is parsed. @default 1 MiB
   */
  maxResultBytes?: number;
  /**
   * Authenticates the results shared through Redis: each envelope carries an HMAC-SHA256 of
   * itself and its key, and one that fails verification (forged or altered by a Redis writer
   * without the secret, or copied from another key) is ignored, counted in `rejectedEnvelopes`,
   * logged once, and the caller runs the work itself. The same secret on every instance; at least
   * 16 characters. @default none (results are trusted as Redis holds them)
   *
   * ```ts
   * new DistributedFlight(coordinator, { namespace: 'orders', secret: process.env.SF_SECRET });
   * ```
   */
  secret?: string;
  /**
   * How instances of your classes cross instances (see TypeCodec): a result holding an instance
   * of a class without a codec is not shared (each instance runs the work; logged once). Give
   * every instance the same codecs. The module passes its own `codecs`.
   * @default [] (no class instances)
   */
  codecs?: readonly TypeCodec[];
}

/**
 * Counters since the instance was made.
 * @publicApi
 */
export interface DistributedFlightStats {
  /** Calls of run(). */
  calls: number;
  /** Flights this instance led: it won the lease and ran the work (or found it in the cache). */
  leader: number;
  /** Flights that waited for another instance's leader (counted once per run). */
  follower: number;
  /** Flights answered by a result that finished less than `resultTtlMs` ago. */
  reused: number;
  /** Leaders whose cache re-check found the value, so the work did not run. */
  recheckHits: number;
  /** Runs of the work without coordination: Redis down or slow, a wait timed out, a result not shareable. */
  localFallbacks: number;
  /** Results this instance led that could not be shared (not encodable, or above `maxResultBytes`). */
  unshareable: number;
  /** Followers that gave up after `waitTimeoutMs` (and ran the work themselves). */
  timeouts: number;
  /** Redis errors, timeouts and lost connections. */
  coordinationErrors: number;
  /** Leases lost while the work ran (another instance may have run it too). */
  leaseLost: number;
  /** Lease renewals that succeeded. */
  renewals: number;
  /**
   * Envelopes read from Redis and ignored: larger than `maxResultBytes`, or failing verification
   * with `secret`. Each caller ran the work locally instead.
   */
  rejectedEnvelopes: number;
  /** Whether Redis is being skipped right now (after an error, for `breakerMs`). */
  breakerOpen: boolean;
}

/**
 * Where the engines report Redis trouble (once per outage), lost leases and failed pushes; the
 * module passes Nest's Logger (context `Singleflight`).
 * @publicApi
 */
export type DistributedFlightLog = CoordinationLog;
