import type { RetryOptions } from '../../core/write-group.interfaces.js';

/**
 * Options of `@SingleFlight()`; each overrides the module's default for this method. A method that
 * returns an Observable takes none of `timeout`, `forgetAfter`, `shareErrors` or `distributed` into
 * account, and it is never cached: a `ttl` on it fails at start-up (or, when its return type is
 * not annotated, is ignored).
 *
 * ```ts
 * @SingleFlight((id: string) => id, { ttl: 60_000, shouldCache: (user) => user !== null })
 * ```
 * @publicApi
 */
export interface SingleFlightOptions<T = any> {
  /**
   * Per-caller timeout (ms): that caller rejects with SingleflightTimeoutError; the flight goes on.
   * @default the module's `timeout` (none)
   */
  timeout?: number;
  /**
   * A flight older than this (ms) takes no more joiners.
   * @default the module's `forgetAfter` (none)
   */
  forgetAfter?: number;
  /**
   * Whether joiners of a failed flight share its error.
   * @default the module's `shareErrors` (true)
   */
  shareErrors?: boolean;
  /**
   * Cache a successful result for this long (ms), or a function of the value; 0 turns caching off.
   * @default the module's `ttl` (none: no caching)
   */
  ttl?: number | ((value: T) => number);
  /**
   * Refresh-ahead: answer the cached value and refresh it when less than this (ms) is left.
   * @default the module's `refreshThreshold` (none)
   */
  refreshThreshold?: number;
  /** Whether a value is cached. @default every value but undefined */
  shouldCache?: (value: T) => boolean;
  /**
   * With `forRoot({ redis })`: share the flight with the other instances. `false` keeps this
   * method's flights in-process. @default true
   */
  distributed?: boolean;
  /**
   * `false`: this method's keys leave out the module's `keyContext`, so calls of every context
   * share its flights and cached values. Only for data that is the same for every context (e.g.
   * exchange rates in a multi-tenant app).
   * @default true (the module's `keyContext` applies)
   */
  keyContext?: boolean;
}

/**
 * Options of `@MergeWrites()`.
 *
 * ```ts
 * @MergeWrites((id: string) => id, { retry: { attempts: 3, backoffMs: 100 } })
 * ```
 * @publicApi
 */
export interface MergeWritesOptions<A extends unknown[] = any[]> {
  /** Fold the arguments of the calls that wait for the same run. @default the newest call's */
  merge?: (pending: A, next: A) => A;
  /**
   * Try a failed run again. A distributed method (with `forRoot({ redis })`) uses
   * `redis.writes.retry` instead.
   * @default the module's `retry`, else none
   */
  retry?: RetryOptions;
  /**
   * With `forRoot({ redis })`: one push of a key at a time across the instances, with the newest
   * call's arguments (JSON-safe) wherever it runs. `false` keeps this method's writes in-process.
   * @default true
   */
  distributed?: boolean;
  /**
   * Pass the run's `WriteRunContext` (`{ key, fence, signal }`) to the method after its own
   * arguments. `fence` grows with every run of the key across the instances, so a downstream can
   * refuse a late write (`... WHERE fence < $fence`); `signal` aborts when this instance lost the
   * key's lease. Without Redis, `fence` is 0. Callers never pass it.
   * @default false
   */
  context?: boolean;
  /**
   * `false`: this method's keys leave out the module's `keyContext`, so calls of every context
   * merge into the same runs. Only for writes that are the same for every context.
   * @default true (the module's `keyContext` applies)
   */
  keyContext?: boolean;
}
