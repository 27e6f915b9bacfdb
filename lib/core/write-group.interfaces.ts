/**
 * How a failed run is tried again, so that a transient failure does not leave a stale final state.
 *
 * ```ts
 * { attempts: 3, backoffMs: 100 } // 3 tries in all: waits 100 ms, then 200 ms, between them
 * ```
 * @publicApi
 */
export interface RetryOptions {
  /** How many times a run is tried in all, the first try included (1 = no retry). */
  attempts: number;
  /**
   * Wait before try n+1: a number is the first wait in ms, doubled for each later try; a function
   * gets the try that failed (1-based) and its error.
   * @default 0
   */
  backoffMs?: number | ((attempt: number, error: unknown) => number);
}

/**
 * Options of `new WriteGroup(options)`; `SingleflightModule.forRoot()` passes its own `retry` and
 * `detectAsyncReentry` to the app's WriteGroup.
 * @publicApi
 */
export interface WriteGroupOptions {
  /**
   * Default retry for every run of this group.
   * @default undefined (a failed run is not tried again)
   */
  retry?: RetryOptions;
  /**
   * Detect a run that writes its own key after an `await` (directly or through a run of another
   * key): that call would become the next run, which waits for this one, which waits for it, so
   * it rejects with a SingleflightReentryError instead. Uses AsyncLocalStorage. A call made
   * before the work's first `await` (of the first try, a retry or the follow-up run) is always
   * detected, for free. Off, a re-entry after an `await` deadlocks the key. Off by default
   * because AsyncLocalStorage slows every promise of the process on Node < 24.
   * @default false
   */
  detectAsyncReentry?: boolean;
}

/**
 * Per-call options of WriteGroup.do.
 * @publicApi
 */
export interface WriteCallOptions<A extends unknown[]> {
  /**
   * The arguments of this call; the run calls `fn(...args)`.
   * @default undefined (the run calls `fn()`)
   */
  args?: A;
  /**
   * Folds the arguments of calls that wait for the same run: `merge(pendingArgs, newArgs)`.
   * Without it, the newest call's arguments win. A merge that throws rejects only this call.
   * @default undefined (the newest call's arguments)
   */
  merge?: (pending: A, next: A) => A;
  /**
   * Overrides the group's retry for the run this call starts or joins (a pending run takes the
   * newest call's).
   * @default the group's `retry`
   */
  retry?: RetryOptions;
}

/**
 * Counters since the group was made (`WriteGroup.stats()`).
 * @publicApi
 */
export interface WriteGroupStats {
  /** Calls of do() that passed their argument checks. */
  calls: number;
  /** Executions started (a retry is not a new run). */
  runs: number;
  /** Calls that joined a pending run instead of starting their own. */
  coalesced: number;
  /** Runs that failed after their last try. */
  failures: number;
  /** Tries after a failed one. */
  retries: number;
  /** Keys with a run in progress. */
  size: number;
}
