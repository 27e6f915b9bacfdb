import type { Group } from '../core/group.js';
import type { TypeCodec } from './type-codec.js';

/**
 * What a cached flight does with its value.
 *
 * ```ts
 * const policy: CachePolicy<User> = { ttl: 60_000, shouldCache: (user) => user.active };
 * await flightCache.load(`user:${id}`, () => api.user(id), policy);
 * ```
 * @publicApi
 */
export interface CachePolicy<T = unknown> {
  /**
   * How long (ms) a successful value is kept, or a function of the value. 0 or less: not kept.
   * Anything but a finite number (NaN, undefined, a string): not kept, and logged once per policy.
   */
  ttl: number | ((value: T) => number);
  /**
   * Refresh-ahead: once less than this (ms) is left of a value's ttl, callers still get the cached
   * value and one run of the work per key refreshes it in the background. A refresh that fails is
   * logged; the cached value then lasts until its ttl ends. A refresh that has not settled within
   * this many ms is given up (logged): the key may be refreshed again, its value is not stored.
   * @default undefined (no refresh-ahead)
   */
  refreshThreshold?: number;
  /** Whether a value is kept at all. Errors are never kept. @default every value but undefined */
  shouldCache?: (value: T) => boolean;
}

/** Where a cached flight reports a cache store that failed (the flight runs regardless) or a bad ttl. */
export interface CacheErrorLogger {
  warn(message: string, error?: unknown): void;
}

/**
 * @publicApi
 */
export interface FlightCacheStats {
  /** Calls answered from the cache, without running the work. */
  hits: number;
  /** Calls that ran the work because the cache had nothing. */
  misses: number;
  /** Cache store failures and time-outs; each one fell back to running the work. */
  errors: number;
}

/**
 * Options of `new FlightCache(cache, options)`; SingleflightModule makes the app's.
 * @publicApi
 */
export interface FlightCacheOptions {
  /**
   * Keep a synchronous mirror of what this process stored. Only for a cache no one else writes
   * (the embedded in-memory default): a hit then costs a Map lookup, not a trip through Keyv.
   * @default false
   */
  local?: boolean;
  /**
   * How long (ms) a store operation may take before the call goes on without it.
   * @default 1000
   */
  timeout?: number;
  /** Where a failing store and a bad `ttl` are reported. @default none (not reported) */
  logger?: CacheErrorLogger;
  /**
   * The Group whose flights run `load`, as in `group.do(key, () => cache.load(key, work, policy))`.
   * Then `invalidate(key)` also forgets the key's flight, so a later caller never joins a flight
   * that started before it, and `group.forget(key)` drops the key's cached value. The module links
   * the app's Group.
   * @default none
   */
  group?: Group;
  /**
   * How instances of your classes are stored: a store that serializes (Redis) keeps plain data,
   * Dates, Maps, Sets, BigInts, Buffers, typed arrays and `undefined`, and a class instance only
   * through its codec (else the value is not cached, logged once per method). The module passes
   * its own `codecs`.
   *
   * ```ts
   * new FlightCache(cache, { codecs: [{ type: Money, encode: (m) => m.cents, decode: (c) => new Money(c) }] });
   * ```
   * @default [] (no class instances)
   */
  codecs?: readonly TypeCodec[];
}
