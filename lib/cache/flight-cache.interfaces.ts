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
  /** How long (ms) a successful value is kept, or a function of the value. */
  ttl: number | ((value: T) => number);
  /**
   * When less than this (ms) is left of an entry's ttl, the cached value is still answered and
   * cache-manager refreshes it in the background (its own refresh-ahead).
   * @default undefined (no refresh-ahead)
   */
  refreshThreshold?: number;
  /** Whether a value is kept at all. Errors are never kept. @default every value but undefined */
  shouldCache?: (value: T) => boolean;
}

/** Where a cached flight reports a cache store that failed; the flight runs regardless. */
export interface CacheErrorLogger {
  warn(message: string, error: unknown): void;
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
