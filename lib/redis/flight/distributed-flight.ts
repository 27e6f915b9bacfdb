import { randomUUID } from 'node:crypto';
import { assertFn, assertKey } from '../../core/options.validator.js';
import * as messages from '../redis.messages.js';
import type { RedisCoordinator } from '../coordinator/coordinator.interface.js';
import { CoordinationLink, defaultLog } from '../shared/coordination-link.js';
import { EnvelopeSeal } from '../shared/envelope-seal.js';
import { type DecodedResult, decodeResult, sharedShape } from '../shared/result-codec.js';
import type {
  DistributedFlightLog,
  DistributedFlightOptions,
  DistributedFlightStats,
} from './distributed-flight.interfaces.js';
import { type FlightSettings, flightSettings } from './flight.options.js';
import { parseAcquire } from './flight.replies.js';
import { ACQUIRE, FORGET } from './flight.scripts.js';
import { FlightFollower, LOCAL, RETRY } from './flight-follower.js';
import { flightKeys } from './flight-keys.js';
import { FlightLeader, type Recheck } from './flight-leader.js';
import { FlightLeases } from './flight-leases.js';
import { Waiters } from './flight-waiters.js';
import { RemoteFlightError } from './remote-flight.error.js';

export { MISS_SENTINEL } from './flight-leader.js';
export type {
  DistributedFlightLog,
  DistributedFlightOptions,
  DistributedFlightStats,
} from './distributed-flight.interfaces.js';

/**
 * Singleflight across instances through Redis: of all the instances that call `run` for one key
 * at the same time, one wins a lease and runs the work; the others wait for its result, announced
 * on one pub/sub channel, and get the same value or error. The protocol, its keys, scripts and
 * races are described in docs/redis-flight.md.
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
 * Values cross instances in the cache's codec (ValueCodec: Dates, Maps, Sets, BigInts, Buffers,
 * `undefined` and instances of the classes in `codecs` keep their type), and every caller gets an
 * equal value: the leader's callers get `decode(encode(value))` like everyone else, and so do
 * callers whose work ran locally because Redis was unavailable. A value the codec cannot carry (a
 * class without a codec, a cycle; logged once) or larger than `maxResultBytes` is not shared: the other instances run the work themselves, and each returns
 * its own original value. Errors are shared, as Go shares them: the leader's callers get the
 * original, other instances a `RemoteFlightError` (see RemoteErrorFields for what it keeps).
 *
 * A follower waits for the wake-up message, and reads the result every `leaseMs / 3` while it
 * waits: a lost message, or a hung Redis that neither answers nor drops the connection, then
 * costs at most that long.
 * @publicApi
 */
export class DistributedFlight {
  readonly #settings: FlightSettings;
  readonly #link: CoordinationLink;
  readonly #seal: EnvelopeSeal;
  readonly #log: DistributedFlightLog;
  /** The namespace's wake-up channel; its messages are `hashed\ntoken` (flight-keys.ts). */
  readonly #channel: string;
  readonly #waiters = new Waiters();
  readonly #leases: FlightLeases;
  readonly #leader: FlightLeader;
  readonly #follower: FlightFollower;
  /** Set once a refused envelope was logged: one line per instance, however many follow. */
  #refusalLogged = false;
  readonly #counts = {
    calls: 0,
    leader: 0,
    follower: 0,
    reused: 0,
    recheckHits: 0,
    localFallbacks: 0,
    unshareable: 0,
    timeouts: 0,
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
    log: DistributedFlightLog = defaultLog,
  ) {
    const settings = (this.#settings = flightSettings(options));
    const { namespace, breakerMs } = settings;
    this.#log = log;
    this.#seal = new EnvelopeSeal(settings.secret, settings.maxResultBytes);
    this.#channel = `${namespace}:done`;
    this.#link = new CoordinationLink('DistributedFlight', coordinator, {
      breakerMs,
      log,
      down: messages.COORDINATION_FAILED(namespace, breakerMs),
      restored: messages.COORDINATION_RESTORED(namespace),
      // Every follower of this instance runs its work now rather than wait on a server that
      // may not answer.
      onFailed: () => this.#waiters.wakeAll(),
      onReady: () => undefined,
    });
    this.#link.watch();
    this.#leases = new FlightLeases(this.#link, settings.leaseMs, this.#counts, log);
    this.#leader = new FlightLeader(
      this.#link,
      settings,
      this.#seal,
      this.#leases,
      this.#counts,
      log,
      this.#channel,
    );
    this.#follower = new FlightFollower(this.#link, settings, this.#waiters, (key, res, text) =>
      this.#decode(key, res, text),
    );
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
  async run<T>(key: string, fn: () => Promise<T>, recheck?: Recheck<T>): Promise<T> {
    assertKey(key);
    assertFn(key, fn);
    this.#counts.calls++;
    const link = this.#link;
    if (link.closed || link.isOpen) return this.#runLocally(fn);
    if (!link.subscribed && !(await this.#subscribe())) return this.#runLocally(fn);

    const { leaseMs, waitTimeoutMs } = this.#settings;
    const keys = flightKeys(this.#settings.namespace, key);
    const deadline = performance.now() + waitTimeoutMs;
    let reuse = this.#settings.reuseRecentResult;
    let following = false;
    for (;;) {
      if (link.closed || link.isOpen) return this.#runLocally(fn);
      const token = randomUUID();
      let reply;
      try {
        const args = [token, leaseMs, reuse ? '1' : '0'];
        reply = parseAcquire(await link.eval(ACQUIRE, [keys.lock, keys.res], args));
      } catch (error) {
        link.failed(error);
        return this.#runLocally(fn);
      }
      if (reply.role === 'leader') return this.#leader.lead(key, keys, token, fn, recheck);
      if (reply.role === 'reused') {
        const result = this.#decode(key, keys.res, reply.envelope);
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
      const outcome = await this.#follower.follow(key, keys, reply.holder, reply.pttl, deadline);
      if (outcome === LOCAL) return this.#runLocally(fn);
      if (outcome !== RETRY) return this.#unwrap(key, outcome, fn);
      if (performance.now() >= deadline) {
        this.#counts.timeouts++;
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
    if (this.#link.closed || this.#link.isOpen) return;
    const { lock, res } = flightKeys(this.#settings.namespace, key);
    try {
      await this.#link.eval(FORGET, [lock, res], []);
    } catch (error) {
      this.#link.failed(error);
    }
  }

  /** Counters since the instance was made. */
  stats(): DistributedFlightStats {
    return {
      ...this.#counts,
      coordinationErrors: this.#link.errors,
      breakerOpen: this.#link.isOpen,
    };
  }

  /**
   * Stops coordinating: waiting followers run their work locally now, renewals stop, the channel
   * is unsubscribed. Later runs run locally. The coordinator itself stays open (its owner closes it).
   */
  async close(): Promise<void> {
    if (this.#link.closed) return;
    const unsubscribed = this.#link.close(this.#channel);
    this.#waiters.wakeAll();
    this.#leases.clear();
    await unsubscribed;
  }

  #subscribe(): Promise<boolean> {
    return this.#link.subscribe(this.#channel, (message) => this.#waiters.message(message));
  }

  /**
   * The result in `text`, read from `res`; an envelope the seal refuses reads as `skip` (the
   * caller runs the work), is counted, and the first one is logged.
   */
  #decode(key: string, res: string, text: string): DecodedResult {
    const envelope = this.#seal.open(res, text);
    if (envelope !== 'oversized' && envelope !== 'forged')
      return decodeResult(envelope, this.#settings.codec);
    this.#counts.rejectedEnvelopes++;
    if (!this.#refusalLogged) {
      this.#refusalLogged = true;
      this.#log(messages.ENVELOPE_REFUSED(this.#settings.namespace, key, envelope));
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
    this.#counts.localFallbacks++;
    return sharedShape(await fn(), this.#settings.maxResultBytes, this.#settings.codec) as T;
  }
}
