import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  BOOLEAN,
  DURATION,
  FUNCTION,
  MAX_TIMER_MS,
  POSITIVE_DURATION,
  POSITIVE_MS,
  type OptionRule,
  assertFn,
  assertKey,
  forTimer,
  validateOptions,
} from '../../core/options.validator.js';
import {
  SingleflightAbortError,
  SingleflightReentryError,
  SingleflightTimeoutError,
  toError,
} from '../../core/singleflight.errors.js';
import * as coreMessages from '../../core/singleflight.messages.js';
import * as messages from '../redis.messages.js';
import { RETRY, backoffDelay } from '../../core/write-group.js';
import type { RetryOptions } from '../../core/write-group.interfaces.js';
import { CircuitBreaker } from '../shared/circuit-breaker.js';
import {
  NAMESPACE,
  assertCoordinator,
  assertLog,
  escapeGlob,
  type RedisCoordinator,
  type RedisScript,
} from '../coordinator/coordinator.interface.js';
import type { DistributedFlightLog as Log } from '../flight/distributed-flight.js';
import type {
  DistributedWriteCallOptions,
  DistributedWriteGroupStats,
  DistributedWriteOptions,
  WriteLedger,
  WriteRun,
  WriteRunContext,
} from './distributed-write-group.interfaces.js';
import { keyHash } from '../coordinator/script-sha.js';
import { encodeArgs } from './write-args.js';
import { observeFence } from './write-fence.js';
import { LeaseSignal } from '../shared/lease-signal.js';
import { InProcessWrites } from './write-fallback.js';
import { isLedger } from './write-ledger.js';
import { type Carried, newest, replyVersion, supersedes, versionOf } from './write-version.js';
import { ABORT, EVENT, EXTEND, FINISH, PEEK, RECOVER } from './write.scripts.js';

type AnyRun = WriteRun<any[], unknown>;

const RULES = {
  namespace: NAMESPACE,
  leaseMs: forTimer([
    'an integer number of milliseconds >= 3',
    (v) => Number.isInteger(v) && Number(v) >= 3,
  ]),
  sweepEveryMs: forTimer(DURATION),
  waitTimeoutMs: forTimer(POSITIVE_DURATION),
  breakerMs: forTimer(DURATION),
  recoverSlackMs: forTimer(DURATION),
  stateTtlMs: POSITIVE_MS,
  retry: RETRY,
  ledger: ['an object with started, finished and pending functions', isLedger],
  detectAsyncReentry: BOOLEAN,
} as const satisfies Record<string, OptionRule>;
const CALL_RULES = { version: FUNCTION } as const satisfies Record<string, OptionRule>;

const DEFAULT_RETRY: RetryOptions = { attempts: 3, backoffMs: 100 };

const defaultLog: Log = (message, error) =>
  error === undefined ? console.warn(message) : console.warn(message, error);

/** A lease this instance took: its token, and when the script that took it was sent. */
interface Taken {
  readonly token: string;
  readonly sent: number;
}

/** One call of `do()` until it settles. */
interface Caller extends Carried {
  readonly run: AnyRun;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  /** The `ver` its EVENT got; it settles once a push with `done >= ver` finished. */
  ver: number;
  settled: boolean;
}

/** What this instance knows and does about one key; dropped as soon as it holds nothing. */
class KeyState {
  readonly lease: string;
  readonly st: string;
  /** The newest local call's push and `version`; recovery and the sweep use them too. */
  run: AnyRun | undefined = undefined;
  version: ((args: any[]) => number) | undefined = undefined;
  /** An EVENT is in flight (one per key per instance at a time), and its callers. */
  eventing = false;
  batch: Caller[] = [];
  /** Calls made during that round trip: the next EVENT carries the newest one's arguments. */
  queue: Caller[] = [];
  /** A caller-less EVENT to send after the one in flight (re-queue after a lost lease, the sweep). */
  nudge: (Carried & { store: boolean }) | undefined = undefined;
  /** Callers whose EVENT landed, in `ver` order. */
  waiting: Caller[] = [];
  /** This instance's push loop, while it holds the lease. */
  running: Promise<void> | undefined = undefined;
  startVer = 0;
  /** The startVer of a push whose FINISH is in flight: its reply settles those callers. */
  finishing = 0;
  /** The highest `ver` this instance's EVENTs got: once `done` reaches it, no crash to watch for. */
  seen = 0;
  recoverTimer: NodeJS.Timeout | undefined = undefined;
  recoverAt = 0;
  failures = 0;

  constructor(
    readonly key: string,
    readonly id: string,
    namespace: string,
  ) {
    this.lease = `${namespace}:{${id}}:lease`;
    this.st = `${namespace}:{${id}}:st`;
  }
}

/**
 * MergeWrites across several instances: per key at most one push in flight fleet-wide, calls
 * during a push cause exactly one follow-up push with the newest call's arguments, and a crashed
 * runner's work is taken over by another instance. Redis keeps, per key,
 * `ver` (events seen), `done` (the highest `ver` a successful push covered), the last fence and
 * the newest arguments; a runner holds a lease renewed every leaseMs/3.
 *
 * A call resolves once a push that started after it finished anywhere in the fleet: with that
 * push's value if it ran on this instance, else `undefined`. If that push threw on this instance,
 * the call rejects with its error and the push is retried through Redis. A call never waits
 * longer than `waitTimeoutMs`.
 *
 * Arguments travel through Redis as JSON (they must be JSON-safe), and the push always gets them
 * decoded, on every instance alike. A push that this instance never called itself (taking over
 * from a crashed instance, the sweep) needs a push registered with `handle()`.
 *
 * When Redis is down or hung, calls run through an in-process WriteGroup instead (callers do not
 * fail): each instance then coalesces only its own calls, and instances may push one key at the
 * same time and out of order. Once Redis answers again, each instance sends one event for every
 * key it pushed in-process (InProcessWrites), so the key's last push is a fleet push after them,
 * with the newest arguments (by `version`) and a higher fence, even over work left pending in a
 * hung Redis. The durable ledger (`ledger`) covers what no live instance remembers (a crash).
 *
 * ```ts
 * const writes = new DistributedWriteGroup(nodeRedisAdapter(client), { leaseMs: 5_000 });
 * await writes.init();
 * await writes.do(`user:${id}`, [id, state] as [string, State], ([id, state], { fence }) =>
 *   api.put(id, state, fence),
 * );
 * ```
 * @publicApi
 */
export class DistributedWriteGroup {
  readonly #coordinator: RedisCoordinator;
  readonly #log: Log;
  readonly #namespace: string;
  readonly #leaseMs: number;
  readonly #sweepEveryMs: number;
  readonly #waitTimeoutMs: number;
  readonly #breakerMs: number;
  readonly #slackMs: number;
  readonly #stateTtlMs: number;
  readonly #retry: RetryOptions;
  readonly #ledger: WriteLedger | undefined;
  readonly #channel: string;
  readonly #breaker: CircuitBreaker;
  readonly #local: InProcessWrites;
  readonly #context: AsyncLocalStorage<KeyState> | undefined;
  readonly #keys = new Map<string, KeyState>();
  readonly #ids = new Map<string, KeyState>();
  readonly #handlers = new Map<string, AnyRun>();
  readonly #unknown = new Set<string>();
  readonly #counts = {
    calls: 0,
    events: 0,
    coalesced: 0,
    runs: 0,
    followUps: 0,
    recovered: 0,
    failures: 0,
    leaseLost: 0,
    timeouts: 0,
    localFallbacks: 0,
    coordinationErrors: 0,
    sweeps: 0,
  };
  readonly #listeners: (() => void)[] = [];
  #subscribed = false;
  #closed = false;
  #degraded = false;
  #sweeping = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  #healTimer: NodeJS.Timeout | undefined;
  /** The key whose push is running synchronously right now (a re-entry before its first await). */
  #pushing: KeyState | undefined = undefined;

  /**
   * `coordinator`: `nodeRedisAdapter(client)`, `ioredisAdapter(client)` or your own (it stays
   * yours to close). `log` (Redis outages, lost leases, failed pushes) defaults to `console.warn`.
   * Call `init()` before the first `do`: calls made before it run in-process.
   */
  constructor(coordinator: RedisCoordinator, options: DistributedWriteOptions = {}, log?: Log) {
    assertCoordinator('DistributedWriteGroup', coordinator);
    assertLog('DistributedWriteGroup', log);
    validateOptions('DistributedWriteGroup options', options, RULES);
    this.#coordinator = coordinator;
    this.#log = log ?? defaultLog;
    this.#namespace = options.namespace ?? 'mw';
    this.#leaseMs = options.leaseMs ?? 10_000;
    this.#sweepEveryMs = options.sweepEveryMs ?? 60_000;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 30_000;
    this.#breakerMs = options.breakerMs ?? 5_000;
    this.#slackMs = options.recoverSlackMs ?? 50;
    this.#stateTtlMs = options.stateTtlMs ?? 7 * 24 * 3_600_000;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#ledger = options.ledger;
    this.#channel = `${this.#namespace}:wdone`;
    this.#breaker = new CircuitBreaker(this.#breakerMs);
    const detectAsyncReentry = options.detectAsyncReentry === true;
    this.#local = new InProcessWrites(detectAsyncReentry, this.#ledger, this.#log);
    this.#context = detectAsyncReentry ? new AsyncLocalStorage() : undefined;
  }

  /**
   * Subscribes to the wake-up channel (awaited, so no wake-up can be missed) and starts the sweep.
   * Calls made before it resolves run in-process. Redis being down is not an error here: calls
   * run in-process until it is back.
   */
  async init(): Promise<void> {
    this.#listeners.push(
      this.#coordinator.onConnectionLost(() => this.#failed(undefined)),
      this.#coordinator.onReady(() => {
        this.#breaker.reset();
        void this.#heal();
      }),
    );
    await this.#subscribe();
    if (this.#sweepEveryMs > 0) {
      this.#sweepTimer = setInterval(() => void this.sweep(), this.#sweepEveryMs);
      this.#sweepTimer.unref();
    }
  }

  /**
   * Records an event for `key` with `args` (JSON-safe) and settles once a push covering it has
   * finished somewhere in the fleet. The instance that runs calls `run(newestArgs, context)`.
   * A call of `key` made by its own push rejects with a SingleflightReentryError (it would wait
   * for the follow-up push, which waits for this one): before the push's first `await` always,
   * after it with `detectAsyncReentry`. With `options.version`, the arguments with the highest
   * version are pushed, whatever order the calls reach Redis in.
   */
  do<A extends unknown[], T>(
    key: string,
    args: A,
    run: (args: A, context: WriteRunContext) => Promise<T>,
    options?: DistributedWriteCallOptions<A>,
  ): Promise<T | undefined> {
    let json: string;
    let version: number | undefined;
    try {
      assertKey(key);
      assertFn(key, run);
      if (options !== undefined) validateOptions('MergeWrites call options', options, CALL_RULES);
      json = encodeArgs(key, args);
      version = versionOf(key, options?.version as ((args: any[]) => number) | undefined, args);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#counts.calls++;
    const pushing = this.#context?.getStore() ?? this.#pushing;
    // Only while that push runs: a leftover timer of a finished push makes a plain call.
    if (pushing !== undefined && pushing.key === key && pushing.running !== undefined) {
      return Promise.reject(new SingleflightReentryError(key, coreMessages.WRITE_REENTRY(key)));
    }
    const push = run as AnyRun;
    const carried: Carried = { json, version };
    if (!this.#usable()) return this.#runLocal(key, carried, push) as Promise<T | undefined>;
    const state = this.#state(key);
    state.run = push;
    state.version = options?.version as ((args: any[]) => number) | undefined;
    return new Promise((resolve, reject) => {
      const caller: Caller = {
        json,
        version,
        run: push,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: undefined,
        ver: 0,
        settled: false,
      };
      caller.timer = setTimeout(() => this.#timeout(state, caller), this.#waitTimeoutMs);
      // One EVENT per key in flight from this instance; calls meanwhile share the next one.
      if (state.eventing) {
        state.queue.push(caller);
      } else {
        void this.#event(state, [caller], caller, true);
      }
    });
  }

  /**
   * Registers the push for keys this instance never called itself, so that it can take them over
   * after another instance crashed, or push what the sweep finds: `key === prefix` or
   * `key.startsWith(prefix + ':')` (the longest prefix wins). Returns a function that removes it.
   */
  handle(prefix: string, run: WriteRun<any[], unknown>): () => void {
    assertKey(prefix);
    assertFn(prefix, run);
    this.#handlers.set(prefix, run);
    return () => void this.#handlers.delete(prefix);
  }

  /**
   * Finds keys with pending writes (`ver > done`) and no runner, and pushes them here (RECOVER);
   * then queues the ledger's pending keys through the protocol. Runs every `sweepEveryMs`.
   */
  async sweep(): Promise<void> {
    if (this.#sweeping || !this.#usable()) return;
    this.#sweeping = true;
    this.#counts.sweeps++;
    try {
      await this.#sweepRedis();
      if (this.#ledger !== undefined && this.#usable()) await this.#sweepLedger(this.#ledger);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Counters of this instance, the callers waiting now and the keys it tracks. */
  stats(): DistributedWriteGroupStats {
    let waiting = 0;
    for (const state of this.#keys.values()) {
      for (const list of [state.batch, state.queue, state.waiting]) {
        for (const caller of list) if (!caller.settled) waiting++;
      }
    }
    return { ...this.#counts, waiting, size: this.#keys.size };
  }

  /**
   * Stops the timers and the sweep, rejects the callers still waiting (their writes stay recorded
   * in Redis for the other instances), lets pushes in flight finish without a follow-up (at most
   * leaseMs), and unsubscribes. The coordinator stays open: it belongs to the caller.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    clearTimeout(this.#healTimer);
    for (const remove of this.#listeners.splice(0)) remove();
    const running: Promise<void>[] = [];
    for (const state of this.#keys.values()) {
      clearTimeout(state.recoverTimer);
      state.recoverTimer = undefined;
      for (const caller of [...state.batch, ...state.queue, ...state.waiting.splice(0)]) {
        this.#reject(caller, closedError(state.key));
      }
      if (state.running !== undefined) running.push(state.running);
      this.#tidy(state);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running),
      new Promise((resolve) => (timer = setTimeout(resolve, this.#leaseMs))),
    ]);
    clearTimeout(timer);
    if (this.#subscribed) {
      this.#subscribed = false;
      await this.#coordinator.unsubscribe(this.#channel).catch(() => undefined);
    }
  }

  // The protocol, per key

  async #event(
    state: KeyState,
    callers: Caller[],
    carried: Carried,
    store: boolean,
  ): Promise<void> {
    state.eventing = true;
    state.batch = callers;
    const token = randomUUID();
    const sent = performance.now();
    const { json, version } = carried;
    let reply: unknown[];
    try {
      reply = asArray(
        await this.#eval(
          EVENT,
          [state.lease, state.st],
          [
            token,
            this.#leaseMs,
            json,
            state.key,
            this.#stateTtlMs,
            store ? '1' : '0',
            version ?? '',
          ],
        ),
      );
    } catch (error) {
      state.eventing = false;
      state.batch = [];
      const queued = state.queue.splice(0);
      const nudge = state.nudge;
      state.nudge = undefined;
      this.#failed(error);
      this.#fallBack(state, [...callers, ...queued]);
      // A caller-less event (a re-queue) is owed to Redis still: sent once it answers again.
      if (callers.length + queued.length === 0) {
        const owed = nudge !== undefined && supersedes(carried, nudge) ? nudge : carried;
        this.#local.owe(state.key, owed, state.run);
      }
      this.#tidy(state);
      return;
    }
    this.#counts.events++;
    state.eventing = false;
    state.batch = [];
    const ver = Number(reply[1]);
    // Callers whose `ver` Redis has not reached: it lost their events; they go with the next.
    const lost = state.waiting.filter((caller) => caller.ver > ver);
    if (lost.length > 0) {
      state.waiting = state.waiting.filter((caller) => caller.ver <= ver);
      state.queue.unshift(...lost);
      state.seen = 0;
    }
    state.seen = Math.max(state.seen, ver);
    for (const caller of callers) {
      caller.ver = ver;
      if (caller.settled) continue;
      if (this.#closed) {
        this.#reject(caller, closedError(state.key));
      } else {
        state.waiting.push(caller);
      }
    }
    if (Number(reply[0]) === 1) {
      const carriedArgs = carriedOf(reply[3], reply[4]);
      this.#startPushes(state, { token, sent }, ver, Number(reply[2]), carriedArgs);
    } else {
      this.#scheduleRecover(state, this.#afterLease(Number(reply[2])));
    }
    this.#dispatch(state);
  }

  /** Sends the EVENT that waited for the one in flight: queued calls first, else a nudge. */
  #dispatch(state: KeyState): void {
    const queued = state.queue.splice(0);
    if (queued.length > 0) {
      state.nudge = undefined; // a newer event re-queues the key anyway
      this.#counts.coalesced += queued.length - 1;
      // After close() too: their writes must reach Redis (the callers are rejected already).
      if (this.#usable() || this.#closed) {
        void this.#event(state, queued, newest(queued), true);
      } else {
        this.#fallBack(state, queued);
      }
      return;
    }
    const nudge = state.nudge;
    state.nudge = undefined;
    if (nudge === undefined) this.#tidy(state);
    else if (this.#usable()) void this.#event(state, [], nudge, nudge.store);
    else {
      this.#local.owe(state.key, nudge, state.run);
      this.#tidy(state);
    }
  }

  /** An EVENT without a caller; after the one in flight, if there is one. */
  #nudge(state: KeyState, carried: Carried, store: boolean): void {
    if (state.eventing) {
      const next = { ...carried, store };
      if (state.nudge === undefined || (store && supersedes(state.nudge, next))) state.nudge = next;
    } else {
      void this.#event(state, [], carried, store);
    }
  }

  #startPushes(
    state: KeyState,
    lease: Taken,
    startVer: number,
    fence: number,
    carried: Carried,
  ): void {
    let end!: () => void;
    const running = new Promise<void>((resolve) => (end = resolve));
    state.running = running;
    void this.#pushes(state, lease, startVer, fence, carried)
      .catch((error: unknown) => this.#log(messages.WRITE_LOOP_FAILED(state.key), error))
      .finally(() => {
        if (state.running === running) state.running = undefined;
        end();
        this.#tidy(state);
      });
  }

  /** Holds the lease: push, FINISH, and again for as long as events arrived during the push. */
  async #pushes(
    state: KeyState,
    { token, sent }: Taken,
    startVer: number,
    fence: number,
    carried: Carried,
  ): Promise<void> {
    const key = state.key;
    // This instance's in-process pushes of the key (an outage just ended) land first.
    await this.#local.ended(key);
    for (;;) {
      state.startVer = startVer;
      observeFence(fence);
      const run = this.#runFor(state);
      if (run === undefined || carried.json === '') {
        this.#log(run === undefined ? messages.WRITE_NO_RUN(key) : messages.WRITE_NO_ARGS(key));
        await this.#release(state, token);
        return;
      }
      this.#counts.runs++;
      const lease = new LeaseSignal(sent, this.#leaseMs, () => leaseLostError(key));
      const renewal = setInterval(
        () => void this.#extend(state, token, lease),
        Math.floor(this.#leaseMs / 3),
      );
      renewal.unref();
      let value: unknown;
      const args = JSON.parse(carried.json) as unknown[];
      try {
        if (this.#ledger !== undefined) await this.#ledger.started(key, fence, args);
        value = await this.#push(state, run, args, { key, fence, signal: lease.signal });
      } catch (thrown) {
        if (lease.signal.aborted) {
          // Another instance may hold the key now: its push covers these callers.
          this.#leaseLost(state, carried);
          return;
        }
        const error = toError(key, thrown);
        this.#counts.failures++;
        this.#settle(state, startVer, (caller) => caller.reject(error));
        await this.#release(state, token);
        this.#retryLater(state, error);
        return;
      } finally {
        clearInterval(renewal);
        lease.dispose();
      }
      state.failures = 0;
      if (this.#ledger !== undefined) {
        await this.#ledger
          .finished(key, fence, args)
          .catch((error: unknown) => this.#log(messages.WRITE_LEDGER_FAILED('finished()'), error));
      }
      state.finishing = startVer;
      // A follow-up keeps the lease: FINISH renews it, from the time it was sent.
      sent = performance.now();
      let reply: unknown[];
      try {
        reply = asArray(
          await this.#eval(
            FINISH,
            [state.lease, state.st],
            [token, this.#leaseMs, startVer, this.#channel, state.id],
          ),
        );
      } catch (error) {
        state.finishing = 0;
        // The push landed, so its callers are served; what came later runs in-process.
        this.#settle(state, startVer, (caller) => caller.resolve(value));
        this.#failed(error);
        return;
      }
      state.finishing = 0;
      const code = Number(reply[0]);
      if (code === -1) {
        this.#leaseLost(state, carried);
        return;
      }
      const done = Number(reply[1]);
      this.#pushed(state, done);
      this.#settle(state, done, (caller) =>
        caller.resolve(caller.ver <= startVer ? value : undefined),
      );
      if (code === 0) {
        // Redis has no event after `done`: callers still waiting lost theirs (a lost state).
        if (state.waiting.length > 0) this.#resend(state, state.waiting.splice(0));
        return;
      }
      if (this.#closed) {
        await this.#release(state, token);
        return;
      }
      this.#counts.followUps++;
      startVer = Number(reply[2]);
      fence = Number(reply[3]);
      carried = carriedOf(reply[4], reply[5]);
    }
  }

  /** Calls the push; while its synchronous part runs, a call of its own key is a re-entry. */
  #push(state: KeyState, run: AnyRun, args: unknown[], context: WriteRunContext): Promise<unknown> {
    const previous = this.#pushing;
    this.#pushing = state;
    try {
      return this.#context === undefined
        ? run(args, context)
        : this.#context.run(state, run, args, context);
    } finally {
      this.#pushing = previous;
    }
  }

  /** A recovery timer, a retry or the sweep: push here if work is pending and nobody runs it. */
  async #recover(state: KeyState): Promise<void> {
    if (this.#closed || state.running !== undefined) return this.#tidy(state);
    if (!this.#usable()) return this.#scheduleRecover(state, this.#breakerMs);
    const token = randomUUID();
    const sent = performance.now();
    let reply: unknown[];
    try {
      reply = asArray(await this.#eval(RECOVER, [state.lease, state.st], [token, this.#leaseMs]));
    } catch (error) {
      this.#failed(error);
      return this.#scheduleRecover(state, this.#breakerMs);
    }
    const code = Number(reply[0]);
    if (code === 1) {
      this.#counts.recovered++;
      const carried = carriedOf(reply[3], reply[4]);
      return this.#startPushes(state, { token, sent }, Number(reply[1]), Number(reply[2]), carried);
    }
    // Doubles as the poll for a wake-up lost on the way (pub/sub is at-most-once).
    const done = Number(reply[1]);
    this.#pushed(state, done);
    this.#settle(state, done, (caller) => caller.resolve(undefined));
    if (code === 2) {
      // Someone runs; watch for their crash while events this instance saw are not pushed yet.
      if (done < state.seen) this.#scheduleRecover(state, this.#afterLease(Number(reply[2])));
    } else if (state.waiting.length > 0) {
      // Nothing pending, yet callers wait: Redis lost the state (restart, FLUSHALL, eviction).
      this.#resend(state, state.waiting.splice(0));
    }
    this.#tidy(state);
  }

  /**
   * Callers whose events Redis lost: their events go to Redis again, so that a fleet push, one
   * at a time, covers them (never an in-process push while Redis answers).
   */
  #resend(state: KeyState, lost: Caller[]): void {
    state.seen = 0;
    if (state.eventing) state.queue.push(...lost);
    else void this.#event(state, lost, newest(lost), false);
  }

  #scheduleRecover(state: KeyState, delayMs: number): void {
    if (this.#closed) return;
    const due = Date.now() + delayMs;
    // The earliest due time wins, so a short retry is not held back by a long lease (race 12).
    if (state.recoverTimer !== undefined && state.recoverAt <= due) return;
    clearTimeout(state.recoverTimer);
    state.recoverAt = due;
    // A lease plus slack, or a backoff function's wait, can pass the longest timer: check then.
    state.recoverTimer = setTimeout(
      () => {
        state.recoverTimer = undefined;
        void this.#recover(state);
      },
      Math.min(delayMs, MAX_TIMER_MS),
    );
    state.recoverTimer.unref();
  }

  #afterLease(pttl: number): number {
    return Math.max(0, pttl) + this.#slackMs + Math.random() * this.#slackMs;
  }

  #retryLater(state: KeyState, error: Error): void {
    state.failures++;
    if (state.failures >= this.#retry.attempts) {
      this.#log(messages.WRITE_RETRIES_EXHAUSTED(state.key, state.failures), error);
      state.failures = 0;
      return;
    }
    this.#scheduleRecover(state, Math.max(0, backoffDelay(this.#retry, state.failures, error)));
  }

  #leaseLost(state: KeyState, carried: Carried): void {
    this.#counts.leaseLost++;
    this.#log(messages.WRITE_LEASE_LOST(state.key));
    // This push may have landed after a newer one: a new event makes sure one more push follows.
    this.#nudge(state, carried, false);
  }

  /** Renews the lease; the push's signal aborts when it is gone, or once it may be (no reply). */
  async #extend(state: KeyState, token: string, lease: LeaseSignal): Promise<void> {
    const sent = performance.now();
    try {
      const held = await this.#eval(EXTEND, [state.lease], [token, this.#leaseMs]);
      if (Number(held) === 0) lease.lost();
      else lease.renewed(sent);
    } catch (error) {
      this.#failed(error);
    }
  }

  async #release(state: KeyState, token: string): Promise<void> {
    try {
      await this.#eval(ABORT, [state.lease], [token]);
    } catch (error) {
      this.#failed(error); // the lease expires on its own
    }
  }

  // Callers

  /** Settles the waiting callers with `ver <= upTo` (the list is in `ver` order). */
  #settle(state: KeyState, upTo: number, settle: (caller: Caller) => void): void {
    const waiting = state.waiting;
    let n = 0;
    while (n < waiting.length && waiting[n]!.ver <= upTo) n++;
    for (const caller of waiting.splice(0, n)) if (claim(caller)) settle(caller);
  }

  /** A push covered `done`: if that is every event this instance saw, its crash watch is over. */
  #pushed(state: KeyState, done: number): void {
    if (done < state.seen || state.recoverTimer === undefined) return;
    clearTimeout(state.recoverTimer);
    state.recoverTimer = undefined;
    state.failures = 0;
  }

  #reject(caller: Caller, error: unknown): void {
    if (claim(caller)) caller.reject(error);
  }

  #timeout(state: KeyState, caller: Caller): void {
    if (caller.settled) return;
    // A queued caller stays queued: its arguments still have to reach Redis.
    const at = state.waiting.indexOf(caller);
    if (at >= 0) state.waiting.splice(at, 1);
    this.#counts.timeouts++;
    this.#reject(caller, waitTimeoutError(state.key, this.#waitTimeoutMs));
    this.#tidy(state);
  }

  /** The wake-up `K\ndone` from a FINISH anywhere in the fleet. */
  #onDone(message: string): void {
    const cut = message.indexOf('\n');
    const state = this.#ids.get(message.slice(0, cut));
    // Our own FINISH in flight settles its callers with the value when its reply comes.
    if (state === undefined || state.finishing > 0) return;
    const done = Number(message.slice(cut + 1));
    this.#pushed(state, done);
    this.#settle(state, done, (caller) => caller.resolve(undefined));
    this.#tidy(state);
  }

  // Redis unusable: in-process fallback

  #usable(): boolean {
    return this.#subscribed && !this.#closed && !this.#breaker.isOpen;
  }

  #failed(error: unknown): void {
    this.#counts.coordinationErrors++;
    this.#breaker.trip();
    if (!this.#degraded) {
      this.#degraded = true;
      this.#log(messages.WRITE_COORDINATION_DOWN(this.#namespace, this.#breakerMs), error);
    }
    // Callers that wait on Redis would wait in vain: their keys are pushed in-process now.
    for (const state of this.#keys.values()) {
      const covered = state.running !== undefined ? state.startVer : 0;
      const rest = state.waiting.filter((caller) => caller.ver > covered);
      if (rest.length === 0) continue;
      state.waiting = state.waiting.filter((caller) => caller.ver <= covered);
      this.#fallBack(state, rest);
      this.#tidy(state);
    }
    this.#scheduleHeal();
  }

  #fallBack(state: KeyState, callers: Caller[]): void {
    for (const caller of callers) {
      const waits = claim(caller);
      // Run even for a caller that gave up: its write must not be lost.
      const outcome = this.#runLocal(state.key, caller, caller.run);
      if (waits) outcome.then(caller.resolve, caller.reject);
      else outcome.catch(() => undefined);
    }
  }

  #runLocal(key: string, carried: Carried, run: AnyRun): Promise<unknown> {
    this.#counts.localFallbacks++;
    return this.#local.run(key, carried, run, this.#keys.get(key)?.running);
  }

  /**
   * Redis answers again: each key this instance pushed in-process meanwhile gets one event, once
   * its in-process pushes have ended. So the key's last push goes through the fleet, after every
   * in-process push, with a fence above theirs; with versions it carries the newest arguments
   * any instance saw (a push that reads the store reads the newest state anyway).
   */
  #repay(): void {
    this.#local.repay((key, owed) => {
      if (this.#closed) return;
      if (!this.#usable()) return this.#local.owe(key, owed, owed.run);
      const state = this.#state(key);
      state.run ??= owed.run;
      this.#nudge(state, owed, false);
    });
  }

  #scheduleHeal(): void {
    if (this.#healTimer !== undefined || this.#closed) return;
    this.#healTimer = setTimeout(
      () => {
        this.#healTimer = undefined;
        void this.#heal();
      },
      Math.min(this.#breakerMs + 10, MAX_TIMER_MS),
    );
    this.#healTimer.unref();
  }

  /** The breaker closed or the connections are back: subscribe if that never worked, and send
   * the events owed to Redis. */
  async #heal(): Promise<void> {
    if (this.#closed) return;
    if (this.#breaker.isOpen) return this.#scheduleHeal();
    if (!this.#subscribed) await this.#subscribe();
    if (this.#local.owing && this.#usable()) this.#repay();
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#coordinator.subscribe(this.#channel, (message) => this.#onDone(message));
      this.#subscribed = !this.#closed;
    } catch (error) {
      this.#failed(error);
    }
  }

  // Sweep helpers

  async #sweepRedis(): Promise<void> {
    try {
      const pattern = `${escapeGlob(this.#namespace)}:{*}:st`;
      for await (const name of this.#coordinator.scan(pattern, 100)) {
        if (!this.#usable()) return;
        const [ver, done, key] = asArray(await this.#eval(PEEK, [name], []));
        if (typeof key !== 'string' || !(Number(ver) > Number(done))) continue;
        const state = this.#state(key);
        if (state.st !== name) {
          this.#tidy(state);
        } else if (this.#runFor(state) === undefined) {
          this.#noRun(state);
        } else {
          await this.#recover(state);
        }
      }
    } catch (error) {
      this.#failed(error);
    }
  }

  async #sweepLedger(ledger: WriteLedger): Promise<void> {
    try {
      for await (const item of ledger.pending()) {
        if (!this.#usable()) return;
        const key = typeof item === 'string' ? item : item.key;
        const args = typeof item === 'string' ? undefined : item.args;
        const state = this.#state(key);
        let carried: Carried = { json: '', version: undefined };
        try {
          if (args !== undefined) {
            carried = { json: encodeArgs(key, args), version: versionOf(key, state.version, args) };
          }
        } catch (error) {
          this.#log(messages.WRITE_LEDGER_FAILED('pending()'), error);
          this.#tidy(state);
          continue;
        }
        // The store's arguments are the newest: they replace what Redis holds (by version if any).
        if (this.#runFor(state) === undefined) this.#noRun(state);
        else this.#nudge(state, carried, args !== undefined);
      }
    } catch (error) {
      this.#log(messages.WRITE_LEDGER_FAILED('pending()'), error);
    }
  }

  #noRun(state: KeyState): void {
    if (!this.#unknown.has(state.key)) {
      if (this.#unknown.size >= 1_000) this.#unknown.clear();
      this.#unknown.add(state.key);
      this.#log(messages.WRITE_NO_RUN(state.key));
    }
    this.#tidy(state);
  }

  /** Every script call; a reply means Redis answers again, so the next outage is logged anew. */
  async #eval(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const reply = await this.#coordinator.eval(script, keys, args);
    this.#degraded = false;
    if (this.#local.owing && this.#usable()) this.#repay();
    return reply;
  }

  // Per-key state

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      const id = keyHash(this.#namespace, key);
      state = new KeyState(key, id, this.#namespace);
      this.#keys.set(key, state);
      this.#ids.set(id, state);
    }
    return state;
  }

  #runFor(state: KeyState): AnyRun | undefined {
    if (state.run !== undefined) return state.run;
    let best: string | undefined;
    for (const prefix of this.#handlers.keys()) {
      const matches = state.key === prefix || state.key.startsWith(`${prefix}:`);
      if (matches && (best === undefined || prefix.length > best.length)) best = prefix;
    }
    return best === undefined ? undefined : this.#handlers.get(best);
  }

  #tidy(state: KeyState): void {
    if (
      state.eventing ||
      state.queue.length > 0 ||
      state.nudge !== undefined ||
      state.waiting.length > 0 ||
      state.running !== undefined ||
      state.recoverTimer !== undefined ||
      this.#keys.get(state.key) !== state
    ) {
      return;
    }
    this.#keys.delete(state.key);
    this.#ids.delete(state.id);
  }
}

function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply))
    throw new TypeError(`unexpected MergeWrites script reply: ${String(reply)}`);
  return reply;
}

const text = (value: unknown): string =>
  typeof value === 'string' ? value : value == null ? '' : String(value);

/** The arguments a script's reply hands to a run, and their version. */
const carriedOf = (json: unknown, version: unknown): Carried => ({
  json: text(json),
  version: replyVersion(version),
});

/** Marks `caller` settled and stops its timer; false when it was settled already. */
function claim(caller: Caller): boolean {
  if (caller.settled) return false;
  caller.settled = true;
  clearTimeout(caller.timer);
  return true;
}

/** SingleflightTimeoutError, with the text of this wait (waitTimeoutMs, the write stays pending). */
function waitTimeoutError(key: string, ms: number): SingleflightTimeoutError {
  return new SingleflightTimeoutError(key, ms, messages.WRITE_WAIT_TIMEOUT(key, ms));
}

/** The reason a push's signal aborts: its lease is gone, or may be. */
function leaseLostError(key: string): SingleflightAbortError {
  return new SingleflightAbortError(key, undefined, messages.WRITE_LEASE_LOST(key));
}

/** SingleflightAbortError for a caller still waiting when the group closes. */
function closedError(key: string): SingleflightAbortError {
  return new SingleflightAbortError(key, undefined, messages.WRITE_CLOSED(key));
}
