import type { Cache } from 'cache-manager';
import type { CacheErrorLogger, CachePolicy, FlightCacheStats } from './flight-cache.interfaces.js';
import { LocalMirror } from './local-mirror.js';

/** Thrown inside cache-manager's wrap to keep a value out of the store (not cacheable, or stale). */
const NOT_STORED = Symbol('not stored');

export interface FlightCacheOptions {
  /**
   * Keep a synchronous mirror of what this process stored. Only for a cache no one else writes
   * (the embedded in-memory default): a hit then costs a Map lookup, not a trip through Keyv.
   */
  local: boolean;
  /** How long (ms) a store read may take before the work runs without the cache. */
  timeout: number;
  logger?: CacheErrorLogger;
}

const defaultShouldCache = (value: unknown) => value !== undefined;

/**
 * Caching after the flight, over a cache-manager `Cache`. `load` runs inside a flight, so a cold
 * cache is read once per key, not once per caller. Errors are never stored; a failing or hung store
 * never fails the call; an `invalidate` during a flight keeps that flight from writing back.
 * The module provides one per app (null with `cache: false`); decorated methods use it through
 * their `ttl`, and it can be injected to invalidate a key:
 *
 * ```ts
 * constructor(private readonly flights: FlightCache) {}
 * async rename(id: string, name: string) {
 *   await this.db.rename(id, name);
 *   await this.flights.invalidate(`UserService.user:${id}`); // `Class.method:<key>`
 * }
 * ```
 * @publicApi
 */
export class FlightCache {
  readonly #local: LocalMirror | undefined;
  /** Bumped by invalidate(): a load that saw another generation must not store its value. */
  readonly #generations = new Map<string, number>();
  readonly #counts = { hits: 0, misses: 0, errors: 0 };
  readonly #timeout: number;
  readonly #logger: CacheErrorLogger | undefined;

  /** Usually made by SingleflightModule; `local` only for a cache no one else writes. */
  constructor(
    /** The cache-manager cache the values are kept in. */
    readonly cache: Cache,
    options: FlightCacheOptions,
  ) {
    this.#local = options.local ? new LocalMirror() : undefined;
    this.#timeout = options.timeout;
    this.#logger = options.logger;
    // Keyv keeps a store's failures to itself and emits them; cache-manager never sees them.
    for (const store of cache.stores ?? [])
      store.on('error', (error) => this.#report(undefined, error));
  }

  /**
   * A settled promise of the value this process stored for `key`, while it is fresh; otherwise
   * undefined (and always undefined for a store others write too). Synchronous, for the hot path.
   */
  peek(key: string): Promise<unknown> | undefined {
    return this.#counted(this.#local?.get(key));
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
   * Run it inside the key's flight.
   */
  async load<T>(key: string, work: () => T | PromiseLike<T>, policy: CachePolicy<T>): Promise<T> {
    const generation = this.#generations.get(key);
    const shouldCache = policy.shouldCache ?? defaultShouldCache;
    let own: Promise<T> | undefined;
    let abandoned = false;
    // cache-manager calls this on a miss, and again later for a background refresh.
    const produce = async (): Promise<T> => {
      // After load gave up on the store and ran the work itself, a late call must not run it again.
      if (abandoned) throw NOT_STORED;
      const run = (async () => work())();
      own ??= run;
      const value = await run;
      if (this.#generations.get(key) !== generation || !shouldCache(value)) throw NOT_STORED;
      return value;
    };
    try {
      const stored = await this.#storeTimed(
        this.cache.wrap(key, produce, {
          ttl: policy.ttl,
          refreshThreshold: policy.refreshThreshold,
          raw: true,
        }),
        () => own,
      );
      if (own === undefined) this.#counts.hits++;
      else this.#counts.misses++;
      if (this.#generations.get(key) !== generation) {
        // Invalidated while the store was writing: take back what was written.
        await this.#quietly(key, this.cache.del(key));
      } else if (this.#local !== undefined) {
        // Fresh until the refresh threshold: later calls go through the store, which refreshes.
        const expires = typeof stored?.expires === 'number' ? stored.expires : Infinity;
        const freshFor = expires - (policy.refreshThreshold ?? 0) - Date.now();
        this.#local.set(key, stored?.value, freshFor);
      }
      return stored?.value as T;
    } catch (error) {
      abandoned = true;
      // The work ran: its outcome is the answer, whatever the store did with it.
      if (own !== undefined) {
        this.#counts.misses++;
        if (error !== NOT_STORED && !(await isOutcomeOf(own, error))) this.#report(key, error);
        return own;
      }
      this.#report(key, error);
      this.#counts.misses++;
      return work();
    }
  }

  /** What the store holds for `key` (undefined: nothing), read within the store timeout. */
  stored(key: string): Promise<unknown> {
    return this.#storeTimed(this.cache.get(key));
  }

  /** Drops `key` from the cache and keeps any flight that is running for it from storing. */
  async invalidate(key: string): Promise<void> {
    this.#generations.set(key, (this.#generations.get(key) ?? 0) + 1);
    this.#local?.delete(key);
    await this.#quietly(key, this.cache.del(key));
  }

  #counted(hit: Promise<unknown> | undefined): Promise<unknown> | undefined {
    if (hit !== undefined) this.#counts.hits++;
    return hit;
  }

  /** Hits (a `peek` that answered counts as one), misses and store errors since the app started. */
  stats(): FlightCacheStats {
    return { ...this.#counts };
  }

  #report(key: string | undefined, error: unknown): void {
    this.#counts.errors++;
    const which =
      key === undefined ? 'A cache store failed' : `The cache store failed for key "${key}"`;
    this.#logger?.warn(`${which}; the call ran without it.`, error);
  }

  async #quietly(key: string, operation: Promise<unknown>): Promise<void> {
    try {
      await this.#storeTimed(operation);
    } catch (error) {
      this.#report(key, error);
    }
  }

  /**
   * Times only the store's part of `operation`: the read until the work starts, then the write
   * once the work is done. The work may take as long as it takes.
   */
  #storeTimed<T>(
    operation: Promise<T>,
    work: () => Promise<unknown> | undefined = () => undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const expire = () =>
        reject(new Error(`cache store gave no answer within ${this.#timeout} ms`));
      let timer = setTimeout(() => {
        const running = work();
        if (running === undefined) return expire();
        running.then(
          () => (timer = setTimeout(expire, this.#timeout)),
          () => undefined, // the work's own error reaches operation
        );
      }, this.#timeout);
      operation.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}

/** Whether `error` is the work's own rejection (not a store failure), so it is not logged. */
async function isOutcomeOf(own: Promise<unknown>, error: unknown): Promise<boolean> {
  try {
    await own;
    return false;
  } catch (ownError) {
    return ownError === error;
  }
}
