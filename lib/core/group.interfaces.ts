/**
 * The work of a flight. It receives an AbortSignal that fires when every caller has left (all timed
 * out or aborted), so it can stop a fetch nobody waits for. Only a flight whose leader passed a
 * `timeout` or `signal` can be left that way; its work gets a signal of its own when it declares
 * the parameter. Any other flight can never be abandoned: its work gets a signal that never aborts.
 * @publicApi
 */
export type Work<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/**
 * Per-caller options of `Group.do`, `doResult` and `doChan$`: they affect only the caller that
 * passes them.
 *
 * ```ts
 * await group.do(key, fetchUser, { timeout: 2_000, signal: request.signal });
 * ```
 * @publicApi
 */
export interface CallOptions {
  /**
   * Stop waiting after this many ms with a SingleflightTimeoutError. The flight goes on.
   * @default undefined (wait until the flight settles)
   */
  timeout?: number;
  /**
   * Stop waiting when this signal aborts, with a SingleflightAbortError. The flight goes on.
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Overrides the group's `forgetAfter` for a flight this call starts.
   * @default the group's `forgetAfter`
   */
  forgetAfter?: number;
  /**
   * Overrides the group's `shareErrors` for this call, when it joins a flight.
   * @default the group's `shareErrors`
   */
  shareErrors?: boolean;
}

/**
 * Options of `new Group(options)`; `SingleflightModule.forRoot()` passes its own `forgetAfter`,
 * `shareErrors` and `detectAsyncReentry` to the app's Group.
 * @publicApi
 */
export interface GroupOptions {
  /**
   * A flight older than this (ms) takes no more joiners: the next caller starts a new flight, so
   * one slow backend call cannot hold every caller. The old flight still settles its own callers.
   * @default undefined (flights take joiners until they settle)
   */
  forgetAfter?: number;
  /**
   * Whether callers that joined a failed flight get its error (Go's behaviour). When false, they
   * start one new flight together instead, and its outcome is final for them.
   * @default true
   */
  shareErrors?: boolean;
  /**
   * Detect a flight that calls its own key after an `await` (it would wait for itself forever), with
   * AsyncLocalStorage. A call made before the work's first `await` is always detected, for free.
   * Off by default because AsyncLocalStorage slows every promise of the process on Node < 24.
   * @default false
   */
  detectAsyncReentry?: boolean;
}

/**
 * Go's `Do` triple. `shared` is true, for every caller of the flight (leader included), when the
 * outcome was given to more than one caller.
 * @publicApi
 */
export interface FlightResult<T> {
  /** The work's value; undefined when it failed. */
  value: T | undefined;
  /**
   * What the work threw or rejected with (a non-Error wrapped in SingleflightThrownValueError), or
   * a caller's own timeout or abort error; undefined on success.
   */
  error: unknown;
  /** Whether the outcome was given to more than one caller. */
  shared: boolean;
}

/**
 * Counters since the group was made. `size` is the number of keys in flight now.
 * @publicApi
 */
export interface GroupStats {
  /** Calls of do/doResult/doChan$. */
  calls: number;
  /** Executions of the work (flights started). */
  flights: number;
  /** Calls that joined a flight in progress instead of running the work. */
  joins: number;
  /** Flights whose work failed. */
  errors: number;
  /** Callers that left because of their timeout. */
  timeouts: number;
  /** Callers that left because of their AbortSignal. */
  aborts: number;
  /** Calls of forget() that removed a flight. */
  forgets: number;
  /** Keys in flight now. */
  size: number;
}
