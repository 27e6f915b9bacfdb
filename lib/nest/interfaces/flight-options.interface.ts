import type { RetryOptions } from '../../core/write-group.interfaces.js';

/**
 * Options of `@SingleFlight()`; each overrides the module's default for this method.
 * @publicApi
 */
export interface SingleFlightOptions<T = any> {
  /** Per-caller timeout (ms): that caller rejects with SingleflightTimeoutError; the flight goes on. */
  timeout?: number;
  /** A flight older than this (ms) takes no more joiners. */
  forgetAfter?: number;
  /** Whether joiners of a failed flight share its error. @default true */
  shareErrors?: boolean;
  /** Cache a successful result for this long (ms), or a function of the value; 0 turns caching off. */
  ttl?: number | ((value: T) => number);
  /** Refresh-ahead: answer the cached value and refresh it when less than this (ms) is left. */
  refreshThreshold?: number;
  /** Whether a value is cached. @default every value but undefined */
  shouldCache?: (value: T) => boolean;
  /**
   * With `forRoot({ redis })`: share the flight with the other instances. `false` keeps this
   * method's flights in-process. @default true
   */
  distributed?: boolean;
}

/**
 * Options of `@MergeWrites()`.
 * @publicApi
 */
export interface MergeWritesOptions<A extends unknown[] = any[]> {
  /** Fold the arguments of the calls that wait for the same run. @default the newest call's */
  merge?: (pending: A, next: A) => A;
  /** Try a failed run again. @default the module's `retry`, else none */
  retry?: RetryOptions;
  /**
   * With `forRoot({ redis })`: one push of a key at a time across the instances, with the newest
   * call's arguments (JSON-safe) wherever it runs. `false` keeps this method's writes in-process.
   * @default true
   */
  distributed?: boolean;
}
