import { randomUUID } from 'node:crypto';
import {
  BOOLEAN,
  DURATION,
  POSITIVE_MS,
  type OptionRule,
  assertFn,
  assertKey,
  isPositiveInt,
  forTimer,
  validateOptions,
} from '../../core/options.validator.js';
import { toError } from '../../core/singleflight.errors.js';
import * as messages from '../redis.messages.js';
import { CircuitBreaker } from '../shared/circuit-breaker.js';
import {
  NAMESPACE,
  SECRET,
  assertCoordinator,
  assertLog,
  type RedisCoordinator,
} from '../coordinator/coordinator.interface.js';
import { ACQUIRE, COMPLETE, EXTEND, FORGET } from './flight.scripts.js';
import { EnvelopeSeal } from '../shared/envelope-seal.js';
import { RemoteFlightError } from './remote-flight.error.js';
import {
  type DecodedResult,
  decodeResult,
  encodeError,
  encodeValue,
  sharedShape,
} from '../shared/result-codec.js';
import { keyHash } from '../coordinator/script-sha.js';
import type {
  DistributedFlightLog,
  DistributedFlightOptions,
  DistributedFlightStats,
} from './distributed-flight.interfaces.js';

export type {
  DistributedFlightLog,
  DistributedFlightOptions,
  DistributedFlightStats,
} from './distributed-flight.interfaces.js';

/**
 * What a `recheck` answers when the cache has nothing for the key: the work runs then.
 *
 * ```ts
 * await flight.run(key, work, async () => (await cache.get(key)) ?? MISS_SENTINEL);
 * ```
 * @publicApi
 */
export const MISS_SENTINEL: unique symbol = Symbol('singleflight.miss');

const RULES = {
  namespace: NAMESPACE,
  leaseMs: forTimer(POSITIVE_MS),
  resultTtlMs: POSITIVE_MS,
  reuseRecentResult: BOOLEAN,
  waitTimeoutMs: DURATION,
  breakerMs: DURATION,
  wakeSlackMs: DURATION,
  maxResultBytes: ['an integer number of bytes >= 1', isPositiveInt] as OptionRule,
  secret: SECRET,
} as const;

const DEFAULTS: Required<Omit<DistributedFlightOptions, 'secret'>> = {
  namespace: 'sf',
  leaseMs: 5000,
  resultTtlMs: 2000,
  reuseRecentResult: true,
  waitTimeoutMs: 30_000,
  breakerMs: 5000,
  wakeSlackMs: 50,
  maxResultBytes: 1 << 20,
};

type Wake = 'message' | 'timer' | 'lost';

/** A follower waiting for the wake-up message `K\ntoken` of the flight it follows. */
class Waiter {
  #woken: Wake | undefined = undefined;
  #resolve: ((why: Wake) => void) | undefined = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;

  wake(why: Wake): void {
    if (this.#woken !== undefined) return;
    this.#woken = why;
    clearTimeout(this.#timer);
    this.#resolve?.(why);
  }

  /** Resolves on a wake (at once if one came already, e.g. while the follower read `res`) or after `ms`. */
  sleep(ms: number): Promise<Wake> {
    if (this.#woken !== undefined) return Promise.resolve(this.#woken);
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(
        () => {
          this.#resolve = undefined;
          resolve('timer');
        },
        Math.max(0, ms),
      );
    });
  }
}

/** A leader's lease and its renewal timer. */
interface Lease {
  timer: ReturnType<typeof setInterval> | undefined;
  lost: boolean;
}

/** The outcome of following another instance's flight. */
const RETRY = Symbol('retry');
const LOCAL = Symbol('local');

/**
 * Singleflight across instances through Redis: of all the instances that call `run` for one key
 * at the same time, one wins a lease and runs the work; the others wait for its result, announced
 * on one pub/sub channel, and get the same value or error.
 *
 * Call `run` inside the instance's own in-process flight (a `Group`), so Redis sees one flight per
 * instance and key, not one per caller. Redis never fails a caller: on any Redis error, timeout or
 * lost connection the work runs locally (still once per instance, under that flight), and Redis is
 * skipped for `breakerMs`. Only the work's own errors reach callers.
 *
 * ```ts
 * const flight = new DistributedFlight(nodeRedisAdapter(client));
 * await flight.init();
 * const user = await group.do(`user:${id}`, () => flight.run(`user:${id}`, () => api.fetchUser(id)));
 * ```
 *
 * Values cross instances as JSON, the codec of Keyv/cache-manager, and every caller gets the JSON
 * shape: the leader's callers get `decode(encode(value))` like everyone else, and so do callers
 * whose work ran locally because Redis was unavailable (a `Date` is an ISO string wherever the
 * flight ran). A value JSON cannot carry (BigInt, cycles) or larger than
 * `maxResultBytes` is not shared: the other instances run the work themselves, and each returns
 * its own original value. Errors are shared, as Go shares them: the leader's callers get the
 * original, other instances a `RemoteFlightError` (see RemoteErrorFields for what it keeps).
 *
 * A follower waits for the wake-up message, and reads the result every `leaseMs / 3` while it
 * waits: a lost message, or a hung Redis that neither answers nor drops the connection, then
 * costs at most that long.
 * @publicApi
 */
export class DistributedFlight {
  readonly #coordinator: RedisCoordinator;
  readonly #options: Required<Omit<DistributedFlightOptions, 'secret'>>;
  readonly #seal: EnvelopeSeal;
  /** Set once a refused envelope was logged: one line per instance, however many follow. */
  #refusalLogged = false;
  readonly #log: DistributedFlightLog;
  readonly #breaker: CircuitBreaker;
  readonly #channel: string;
  /** Followers by the wake-up message they wait for (`K\ntoken`). */
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #leases = new Set<Lease>();
  readonly #removers: Array<() => void>;
  #subscription: Promise<boolean> | undefined = undefined;
  #subscribed = false;
  /** Set once an outage was logged, cleared when Redis answers again: one log line per outage. */
  #degraded = false;
  #closed = false;
  readonly #counts = {
    runs: 0,
    leader: 0,
    follower: 0,
    reused: 0,
    recheckHits: 0,
    localFallback: 0,
    unshareable: 0,
    waitTimeouts: 0,
    coordinationErrors: 0,
    leaseLost: 0,
    renewals: 0,
    rejectedEnvelopes: 0,
  };

  /**
   * `coordinator`: `nodeRedisAdapter(client)`, `ioredisAdapter(client)` or your own (it stays
   * yours to close). `log` defaults to `console.warn`. Call `init()` before the first `run` (else
   * that run subscribes first).
   */
  constructor(
    coordinator: RedisCoordinator,
    options: DistributedFlightOptions = {},
    log: DistributedFlightLog = (message, error) => console.warn(message, error ?? ''),
  ) {
    assertCoordinator('DistributedFlight', coordinator);
    assertLog('DistributedFlight', log);
    validateOptions('DistributedFlight options', options, RULES);
    this.#coordinator = coordinator;
    const { secret, ...rest } = options;
    this.#options = { ...DEFAULTS };
    for (const [name, value] of Object.entries(rest)) {
      if (value !== undefined) (this.#options as Record<string, unknown>)[name] = value;
    }
    this.#seal = new EnvelopeSeal(secret, this.#options.maxResultBytes);
    this.#log = log;
    this.#breaker = new CircuitBreaker(this.#options.breakerMs);
    this.#channel = `${this.#options.namespace}:done`;
    this.#removers = [
      coordinator.onConnectionLost(() => this.#failed(new Error('connection to Redis lost'))),
      coordinator.onReady(() => this.#restored()),
    ];
  }

  /**
   * Subscribes to the namespace's wake-up channel and waits for Redis to acknowledge it, so no
   * follower can miss a wake-up. Resolves even when Redis is down (flights then run locally, and
   * the subscription is tried again on a later flight). Adapters keep one listener per channel:
   * use one DistributedFlight per coordinator and namespace.
   */
  async init(): Promise<void> {
    await this.#subscribe();
  }

  /**
   * Runs `fn` once across the instances that call `run` for `key` at the same time, and answers
   * with its outcome. `recheck` (for cached flights) is called by the instance that wins the
   * lease, before `fn`: a value other than MISS_SENTINEL is the answer and `fn` does not run.
   */
  async run<T>(
    key: string,
    fn: () => Promise<T>,
    recheck?: () => Promise<T | typeof MISS_SENTINEL>,
  ): Promise<T> {
    assertKey(key);
    assertFn(key, fn);
    this.#counts.runs++;
    if (this.#closed || this.#breaker.isOpen) return this.#runLocally(fn);
    if (!this.#subscribed && !(await this.#subscribe())) return this.#runLocally(fn);

    const { leaseMs, waitTimeoutMs } = this.#options;
    const { hashed, lock, res } = this.#keys(key);
    const deadline = performance.now() + waitTimeoutMs;
    let reuse = this.#options.reuseRecentResult;
    let following = false;
    for (;;) {
      if (this.#closed || this.#breaker.isOpen) return this.#runLocally(fn);
      const token = randomUUID();
      let reply: AcquireReply;
      try {
        reply = parseAcquire(
          await this.#coordinator.eval(ACQUIRE, [lock, res], [token, leaseMs, reuse ? '1' : '0']),
        );
      } catch (error) {
        this.#failed(error);
        return this.#runLocally(fn);
      }
      this.#degraded = false;
      if (reply.role === 'leader') return this.#lead(key, hashed, lock, res, token, fn, recheck);
      if (reply.role === 'reused') {
        const result = this.#decode(key, res, reply.envelope);
        // Errors are shared with the callers of a flight, never kept for later ones (as the
        // cache never keeps them): ask again, this time to lead or follow a running flight.
        if (result.kind === 'error') {
          reuse = false;
          continue;
        }
        this.#counts.reused++;
        return this.#unwrap(key, result, fn);
      }
      if (!following) {
        following = true;
        this.#counts.follower++;
      }
      const outcome = await this.#follow(key, hashed, res, reply.holder, reply.pttl, deadline);
      if (outcome === LOCAL) return this.#runLocally(fn);
      if (outcome !== RETRY) return this.#unwrap(key, outcome, fn);
      if (performance.now() >= deadline) {
        this.#counts.waitTimeouts++;
        return this.#runLocally(fn);
      }
    }
  }

  /**
   * Go's `Forget` across instances: later calls of `key`, on any instance, start a new flight
   * rather than join the one running or reuse a recent result (call it after a write that makes
   * the value stale). Callers already waiting still get the old flight's outcome. Never rejects:
   * with Redis unavailable there is nothing to forget beyond this instance.
   */
  async forget(key: string): Promise<void> {
    assertKey(key);
    if (this.#closed || this.#breaker.isOpen) return;
    const { lock, res } = this.#keys(key);
    try {
      await this.#coordinator.eval(FORGET, [lock, res], []);
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Counters since the instance was made. */
  stats(): DistributedFlightStats {
    return { ...this.#counts, breakerOpen: this.#breaker.isOpen };
  }

  /**
   * Stops coordinating: waiting followers run their work locally now, renewals stop, the channel
   * is unsubscribed. Later runs run locally. The coordinator itself stays open (its owner closes it).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const remove of this.#removers) remove();
    this.#wakeAll();
    for (const lease of this.#leases) clearInterval(lease.timer);
    this.#leases.clear();
    if (this.#subscribed) {
      this.#subscribed = false;
      try {
        await this.#coordinator.unsubscribe(this.#channel);
      } catch {
        // Closing while Redis is down: nothing to undo there.
      }
    }
  }

  /** The Redis keys of `key`: one hash tag, so every script touches one Cluster slot. */
  #keys(key: string): { hashed: string; lock: string; res: string } {
    const { namespace } = this.#options;
    const hashed = keyHash(namespace, key);
    return { hashed, lock: `${namespace}:{${hashed}}:lock`, res: `${namespace}:{${hashed}}:res` };
  }

  #subscribe(): Promise<boolean> {
    return (this.#subscription ??= this.#coordinator
      .subscribe(this.#channel, (message) => this.#onMessage(message))
      .then(
        () => (this.#subscribed = true),
        (error: unknown) => {
          // Tried again by a later flight, once the breaker lets it through.
          this.#subscription = undefined;
          this.#failed(error);
          return false;
        },
      ));
  }

  async #lead<T>(
    key: string,
    hashed: string,
    lock: string,
    res: string,
    token: string,
    fn: () => Promise<T>,
    recheck: (() => Promise<T | typeof MISS_SENTINEL>) | undefined,
  ): Promise<T> {
    this.#counts.leader++;
    const lease = this.#renew(key, lock, token);
    let value: T | typeof MISS_SENTINEL = MISS_SENTINEL;
    let failed = false;
    let error: unknown;
    try {
      // A caller that missed the cache just before the previous leader stored its value would
      // otherwise run the work again.
      if (recheck !== undefined) value = await this.#recheck(key, recheck);
      if (value !== MISS_SENTINEL) this.#counts.recheckHits++;
      else value = await fn();
    } catch (thrown) {
      failed = true;
      error = thrown;
    } finally {
      this.#stopRenewal(lease);
    }
    const { maxResultBytes } = this.#options;
    if (failed) {
      // Encoded as this instance's Group will report it (a thrown non-Error gets wrapped).
      await this.#complete(key, hashed, lock, res, token, lease, () =>
        encodeError(token, toError(key, error), maxResultBytes),
      );
      throw error;
    }
    const encoded = encodeValue(token, value, maxResultBytes);
    if (!encoded.shared) this.#counts.unshareable++;
    await this.#complete(key, hashed, lock, res, token, lease, () => encoded.envelope);
    return encoded.value as T;
  }

  async #recheck<T>(
    key: string,
    recheck: () => Promise<T | typeof MISS_SENTINEL>,
  ): Promise<T | typeof MISS_SENTINEL> {
    try {
      return await recheck();
    } catch (error) {
      // The cache is an optimization: its failure must not fail the flight.
      this.#log(messages.RECHECK_FAILED(key), error);
      return MISS_SENTINEL;
    }
  }

  /** Publishes the envelope and releases the lease in one step; a failure is only logged. */
  async #complete(
    key: string,
    hashed: string,
    lock: string,
    res: string,
    token: string,
    lease: Lease,
    envelope: () => string,
  ): Promise<void> {
    // Redis is considered down: followers elsewhere fall back on their own (lost connection,
    // bounded wait), and this instance's callers should not pay a timeout for it.
    if (this.#closed || this.#breaker.isOpen) return;
    try {
      const holder = await this.#coordinator.eval(
        COMPLETE,
        [lock, res],
        [
          token,
          this.#seal.seal(res, envelope()),
          this.#options.resultTtlMs,
          this.#channel,
          `${hashed}\n${token}`,
        ],
      );
      if (Number(holder) !== 1) this.#leaseLost(key, lease);
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Renews the lease every leaseMs/3 (compare-and-pexpire) while the work runs. */
  #renew(key: string, lock: string, token: string): Lease {
    const { leaseMs } = this.#options;
    const lease: Lease = { timer: undefined, lost: false };
    let pending = false;
    lease.timer = setInterval(
      () => {
        // One renewal at a time: against a hung server they would pile up.
        if (pending || this.#breaker.isOpen) return;
        pending = true;
        this.#coordinator.eval(EXTEND, [lock], [token, leaseMs]).then(
          (renewed) => {
            pending = false;
            if (Number(renewed) === 1) this.#counts.renewals++;
            else this.#leaseLost(key, lease);
          },
          (error: unknown) => {
            pending = false;
            this.#failed(error);
          },
        );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    // A renewal must not keep a process alive that has nothing else to do.
    lease.timer.unref();
    this.#leases.add(lease);
    return lease;
  }

  #stopRenewal(lease: Lease): void {
    clearInterval(lease.timer);
    this.#leases.delete(lease);
  }

  #leaseLost(key: string, lease: Lease): void {
    this.#stopRenewal(lease);
    if (lease.lost) return;
    // The work goes on: it is a read, and the worst case is one duplicate call elsewhere.
    lease.lost = true;
    this.#counts.leaseLost++;
    this.#log(messages.LEASE_LOST(key, this.#options.leaseMs));
  }

  /**
   * Waits for the leader `holder` to publish, its lease to run out, the connection to drop or the
   * overall deadline; reads the result after each wake. RETRY: ACQUIRE again (the leader may have
   * crashed, or is renewing a long flight); LOCAL: run the work here.
   */
  async #follow(
    key: string,
    hashed: string,
    res: string,
    holder: string,
    pttl: number,
    deadline: number,
  ): Promise<DecodedResult | typeof RETRY | typeof LOCAL> {
    const { leaseMs, wakeSlackMs } = this.#options;
    const topic = `${hashed}\n${holder}`;
    // Registered BEFORE reading res: a publish after this is delivered to it, and a publish before
    // it had already written res (COMPLETE writes, releases and publishes in one step).
    const waiter = this.#addWaiter(topic);
    try {
      let result = await this.#readResult(key, res, holder);
      if (result !== undefined) return result;
      const lease = pttl >= 0 ? pttl : leaseMs;
      const until = Math.min(
        performance.now() + lease + wakeSlackMs + Math.random() * wakeSlackMs,
        deadline,
      );
      // While waiting, res is polled every leaseMs/3: a hung Redis (no error, no lost connection)
      // then shows within that, and a lost wake-up costs no more than that either.
      const probeMs = Math.max(1, Math.floor(leaseMs / 3));
      for (;;) {
        const left = until - performance.now();
        const why = await waiter.sleep(Math.min(left, probeMs));
        if (why === 'lost') return LOCAL;
        result = await this.#readResult(key, res, holder);
        if (result !== undefined) return result;
        if (why === 'message' || left <= probeMs) return RETRY;
      }
    } catch (error) {
      this.#failed(error);
      return LOCAL;
    } finally {
      this.#removeWaiter(topic, waiter);
    }
  }

  /** The envelope of the flight of `holder`, if it is in res (not an older flight's). */
  async #readResult(key: string, res: string, holder: string): Promise<DecodedResult | undefined> {
    const text = await this.#coordinator.get(res);
    if (text === null) return undefined;
    const result = this.#decode(key, res, text);
    // An envelope that cannot be read could be anyone's: running locally is the safe answer.
    return result.token === holder || result.token === undefined ? result : undefined;
  }

  /**
   * The result in `text`, read from `res`; an envelope the seal refuses reads as `skip` (the
   * caller runs the work), is counted, and the first one is logged.
   */
  #decode(key: string, res: string, text: string): DecodedResult {
    const envelope = this.#seal.open(res, text);
    if (envelope !== 'oversized' && envelope !== 'forged') return decodeResult(envelope);
    this.#counts.rejectedEnvelopes++;
    if (!this.#refusalLogged) {
      this.#refusalLogged = true;
      this.#log(messages.ENVELOPE_REFUSED(this.#options.namespace, key, envelope));
    }
    return { kind: 'skip', token: undefined };
  }

  #unwrap<T>(key: string, result: DecodedResult, fn: () => Promise<T>): Promise<T> {
    if (result.kind === 'ok') return Promise.resolve(result.value as T);
    if (result.kind === 'error') return Promise.reject(new RemoteFlightError(key, result.error));
    return this.#runLocally(fn);
  }

  /**
   * Runs the work without coordination. Its value takes the shared shape all the same, so what
   * callers get does not depend on whether Redis was reachable.
   */
  async #runLocally<T>(fn: () => Promise<T>): Promise<T> {
    this.#counts.localFallback++;
    return sharedShape(await fn(), this.#options.maxResultBytes) as T;
  }

  #addWaiter(topic: string): Waiter {
    const waiter = new Waiter();
    let set = this.#waiters.get(topic);
    if (set === undefined) this.#waiters.set(topic, (set = new Set()));
    set.add(waiter);
    return waiter;
  }

  #removeWaiter(topic: string, waiter: Waiter): void {
    const set = this.#waiters.get(topic);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size === 0) this.#waiters.delete(topic);
  }

  #onMessage(message: string): void {
    const set = this.#waiters.get(message);
    if (set !== undefined) for (const waiter of set) waiter.wake('message');
  }

  #wakeAll(): void {
    for (const set of this.#waiters.values()) for (const waiter of set) waiter.wake('lost');
  }

  /**
   * A Redis error, timeout or lost connection: skip Redis for breakerMs, and let every follower of
   * this instance run its work now rather than wait on a server that may not answer.
   */
  #failed(error: unknown): void {
    this.#counts.coordinationErrors++;
    this.#breaker.trip();
    if (!this.#degraded) {
      this.#degraded = true;
      this.#log(
        messages.COORDINATION_FAILED(this.#options.namespace, this.#options.breakerMs),
        error,
      );
    }
    this.#wakeAll();
  }

  #restored(): void {
    this.#breaker.reset();
    if (this.#degraded) {
      this.#degraded = false;
      this.#log(messages.COORDINATION_RESTORED(this.#options.namespace));
    }
  }
}

type AcquireReply =
  | { role: 'leader' }
  | { role: 'reused'; envelope: string }
  | { role: 'follower'; holder: string; pttl: number };

function parseAcquire(reply: unknown): AcquireReply {
  if (Array.isArray(reply)) {
    const [role, a, b] = reply as unknown[];
    if (Number(role) === 1) return { role: 'leader' };
    if (Number(role) === 2 && typeof a === 'string') return { role: 'reused', envelope: a };
    if (Number(role) === 0 && typeof a === 'string')
      return { role: 'follower', holder: a, pttl: Number(b) };
  }
  throw new Error(messages.BAD_ACQUIRE_REPLY(reply));
}
