import type { Cache } from 'cache-manager';
import { type Group, onForget } from '../core/group.js';
import { assertKey, validateOptions } from '../core/options.validator.js';
import {
  SingleflightArgumentError,
  SingleflightOptionsError,
} from '../core/singleflight.errors.js';
import * as messages from './cache.messages.js';
import { FLIGHT_CACHE_RULES, isCache } from './cache-options.js';
import type {
  CachePolicy,
  FlightCacheOptions,
  FlightCacheStats,
} from './flight-cache.interfaces.js';
import { KeyStates, type KeyState, type Stamp, begin, isCurrent } from './key-states.js';
import { PolicyCheck } from './policy-check.js';
import { Refreshes } from './refreshes.js';
import { LocalMirror } from './local-mirror.js';
import {
  CALL_KEY,
  type CachedMethodName,
  type CallKey,
  type ClassOf,
  type MethodArgs,
} from './method-call.js';
import { StoreOperations } from './store-operations.js';
import { StoreValues, type Stored } from './store-values.js';
import { ValueCodec } from './value-codec.js';

/** The FlightCache getter of how many keys have work under way; not exported by the package. */
export const KEYS_IN_PROGRESS = Symbol('FlightCache.keysInProgress');

const DEFAULT_TIMEOUT = 1000;

/**
 * Caching after the flight, over a cache-manager `Cache`: read the store, else run the work and
 * write its value. `load` runs inside a flight, so a cold cache is read once per key, not once per
 * caller, and nothing beneath the flight coalesces calls. Errors are never stored; a failing or
 * hung store never fails the call. Read-your-writes: once `invalidate(key)` (or, with `group`,
 * `group.forget(key)`) has returned, no caller gets a value whose work started before it.
 * The module provides one per app (null with `cache: false`); decorated methods use it through
 * their `ttl`, and it can be injected to invalidate a key:
 *
 * ```ts
 * constructor(private readonly flights: FlightCache) {}
 * async rename(id: string, name: string) {
 *   await this.db.rename(id, name);
 *   await this.flights.invalidate(UserService, 'user', id); // or `UserService.user:${id}`
 * }
 * ```
 * @publicApi
 */
export class FlightCache {
  readonly #local: LocalMirror | undefined;
  /** What runs for each key; a key has an entry only while something does. */
  readonly #states = new KeyStates();
  readonly #refreshes: Refreshes;
  readonly #counts = { hits: 0, misses: 0 };
  readonly #group: Group | undefined;
  readonly #policies: PolicyCheck;
  /** How `invalidate(Class, method, ...args)` builds a key; set by SingleflightModule. */
  [CALL_KEY]: CallKey | undefined;
  readonly #values: StoreValues;
  readonly #store: StoreOperations;

  /** Usually made by SingleflightModule. Bad options throw a SingleflightOptionsError here. */
  constructor(
    /** The cache-manager cache the values are kept in. */
    readonly cache: Cache,
    options: FlightCacheOptions = {},
  ) {
    if (!isCache(cache))
      throw new SingleflightOptionsError(messages.NOT_A_CACHE('FlightCache', cache));
    validateOptions('FlightCache options', options, FLIGHT_CACHE_RULES);
    this.#local = options.local ? new LocalMirror() : undefined;
    this.#refreshes = new Refreshes(this.#states, options.logger);
    this.#policies = new PolicyCheck(options.logger);
    const codec = new ValueCodec(options.codecs, 'FlightCache options');
    this.#values = new StoreValues(codec, options.logger);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.#store = new StoreOperations(cache, this.#values, timeout, options.logger);
    this.#group = options.group;
    if (this.#group !== undefined) onForget(this.#group, (key) => this.#drop(key));
    // Keyv keeps a store's failures to itself and emits them; cache-manager never sees them.
    for (const store of cache.stores)
      store.on('error', (error) => this.#store.report(undefined, error));
  }

  /**
   * A settled promise of the value this process stored for `key`, while it is fresh; otherwise
   * undefined (and always undefined for a store others write too). Synchronous, for the hot path.
   */
  peek(key: string): Promise<unknown> | undefined {
    const hit = this.#local?.get(key);
    if (hit !== undefined) this.#counts.hits++;
    return hit;
  }

  /**
   * `peek` of the keys `scope:<rest>`, without building those strings: a decorated method keeps
   * this function and calls it with its key part. Undefined when no local mirror answers hits.
   */
  peekerOf(scope: string): ((rest: string) => Promise<unknown> | undefined) | undefined {
    return this.#local?.scope(scope, () => this.#counts.hits++);
  }

  /**
   * The cached value of `key`, or else `work()`'s value, stored per `policy` before this resolves.
   * Run it inside the key's flight (the flight makes it one read and one run per key).
   */
  async load<T>(key: string, work: () => T | PromiseLike<T>, policy: CachePolicy<T>): Promise<T> {
    assertKey(key);
    const state = this.#states.enter(key);
    const stamp = begin(state);
    try {
      // A delete of invalidate() still under way: read after it, not the value it removes.
      if (state.deleting !== undefined) await state.deleting;
      const found = await this.#store.read(key);
      if (found !== undefined) {
        this.#counts.hits++;
        await this.#hit(key, state, stamp, found, work, policy);
        return found.value as T;
      }
      this.#counts.misses++;
      const value = await work();
      await this.#keep(key, state, stamp, value, policy);
      return value;
    } finally {
      this.#states.exit(key, state);
    }
  }

  /** What the store holds for `key` (undefined: nothing), read within the store timeout. */
  async stored(key: string): Promise<unknown> {
    return (await this.#store.stored(key))?.value;
  }

  /**
   * Drops `key` from the cache, and keeps every run that started before from storing its value.
   * With `group`, forgets the key's flight too: a caller after this starts a new one.
   *
   * The typed form, on the FlightCache that SingleflightModule provides, builds the key of a
   * `@SingleFlight()` method's call as the decorator does (scope, key, the current `keyContext`),
   * checked against the method's parameters: `invalidate(TokenService, 'token', 'eu', 'shop')`.
   */
  invalidate(key: string): Promise<void>;
  invalidate<T extends object, K extends CachedMethodName<T>>(
    type: ClassOf<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<void>;
  async invalidate(key: string | ClassOf<object>, method?: string, ...args: unknown[]) {
    if (typeof key === 'function') {
      const callKey = this[CALL_KEY];
      if (callKey === undefined) {
        throw new SingleflightArgumentError(messages.NO_CALL_KEY(key.name, method));
      }
      key = callKey(key, method!, args);
    }
    assertKey(key);
    // The group tells this cache of the forget, which drops the key: one path for both.
    if (this.#group === undefined) this.#drop(key);
    else this.#group.forget(key);
    await this.#states.get(key)?.deleting;
  }

  /** Hits (a `peek` that answered counts as one), misses and store errors since the app started. */
  stats(): FlightCacheStats {
    return { ...this.#counts, errors: this.#store.errors };
  }

  /** The number of keys with a load, a refresh or a delete under way (0 when idle). */
  get [KEYS_IN_PROGRESS](): number {
    return this.#states.size;
  }

  /**
   * Forgets the key's value everywhere, now: the mirror at once, the store when its delete lands
   * (loads wait for it), and a run under way will not store its own.
   */
  #drop(key: string): void {
    const state = this.#states.enter(key);
    state.generation++;
    this.#local?.delete(key);
    // A write under way may land after this delete (stores do not keep the order of calls): it is
    // taken back when it ends, and reads wait for that too.
    const deleted = this.#store.delete(key);
    const done: Promise<void> = Promise.all([state.deleting, deleted, ...state.writes]).then(() => {
      if (state.deleting === done) state.deleting = undefined;
      this.#states.exit(key, state);
    });
    state.deleting = done;
  }

  /**
   * A value found in the store, unless the key was dropped since the read began: the stores before
   * the one that had it get a copy until the same expiry, the mirror keeps it until the refresh
   * threshold, and past it one refresh runs in the background (`Refreshes`) while callers get it.
   */
  async #hit<T>(
    key: string,
    state: KeyState,
    stamp: Stamp,
    found: Stored,
    work: () => T | PromiseLike<T>,
    policy: CachePolicy<T>,
  ): Promise<void> {
    const left = typeof found.expires === 'number' ? found.expires - Date.now() : Infinity;
    const threshold = policy.refreshThreshold ?? 0;
    // Dropped since the read began: the value found is gone, keep nothing of it.
    if (state.generation !== stamp.generation) return;
    if (found.tier > 0 && left > 0) {
      const ttl = left === Infinity ? undefined : left;
      const before = this.cache.stores.slice(0, found.tier);
      const values = this.#values.encode(before, found.value);
      if (values !== undefined) {
        const copy = () => this.#values.write(before, key, values, ttl);
        await this.#store.write(key, state, stamp.generation, copy, noop);
      }
      if (state.generation !== stamp.generation) return;
    }
    if (left >= threshold) return this.#local?.set(key, found.value, left - threshold);
    this.#refreshes.start(key, state, threshold, work, (run, value: T) =>
      this.#keep(key, state, run, value, policy),
    );
  }

  /**
   * Stores `value` per `policy`, unless the key was dropped since the run began or a run that
   * began later has stored its own value.
   */
  async #keep<T>(
    key: string,
    state: KeyState,
    stamp: Stamp,
    value: T,
    policy: CachePolicy<T>,
  ): Promise<void> {
    if (!isCurrent(state, stamp)) return;
    const ttl = this.#policies.ttlOf(key, value, policy);
    if (ttl === undefined) return;
    const { stores } = this.cache;
    const values = this.#values.encode(stores, value, (why) =>
      this.#policies.refused(policy, messages.NOT_ENCODABLE(key, why)),
    );
    if (values === undefined) return;
    const set = () => this.#values.write(stores, key, values, ttl);
    // From here, a run that began before this one starts no write: its value is older.
    state.stored = stamp.run;
    await this.#store.write(key, state, stamp.generation, set, () =>
      this.#local?.set(key, value, ttl - (policy.refreshThreshold ?? 0)),
    );
  }
}

const noop = () => undefined;
