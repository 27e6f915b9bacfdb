/**
 * How one call of a decorated method was served, as far as the moment of the call tells:
 * - `led`: it started a flight (or a `@MergeWrites()` run) whose work runs now;
 * - `joined`: it joined the flight of its key in progress;
 * - `cached`: this process's cache answered it, without a flight;
 * - `queued`: a `@MergeWrites()` call that became the run that waits for the one in progress of
 *   its key (in the fleet, every call: Redis decides after the call returned);
 * - `merged`: a `@MergeWrites()` call that merged into that waiting run;
 * - `rejected`: it failed before reaching a flight or run (its key could not be built, the Group
 *   or WriteGroup refused it as a re-entry of its own key, or its `@MergeWrites()` `merge`
 *   threw); reported when its error is known.
 */
export type CallKind = 'led' | 'joined' | 'cached' | 'queued' | 'merged' | 'rejected';

/**
 * Hears what the calls of decorated methods do, for metrics and debug logs. FlightRunner holds one
 * only when `metrics` or `debug` is on, and then calls it from the call path, so every method must
 * be cheap and must never throw. `method` is the decorated `Class.method` (bounded: fit for a metric
 * label); `key` is the call's whole key, `Class.method:<key>` (unbounded: never a label).
 */
export interface FlightObserver {
  /** A call of a `@SingleFlight()` or `@MergeWrites()` method; `key` is undefined when it could not be built. */
  called(method: string, key: string | undefined, kind: CallKind, error?: unknown): void;
  /** The work of a flight starts (once per execution; a `shareErrors: false` retry is another). */
  flightStarted(method: string, key: string): void;
  /**
   * A flight's work settled `seconds` after it started. `failed` with `error` when it threw or
   * rejected. `fromCache` when the flight went through the cache: true when the cache store had
   * the value (the method did not run), false when the method ran; undefined without caching.
   */
  flightSettled(
    method: string,
    key: string,
    seconds: number,
    failed: boolean,
    error: unknown,
    fromCache: boolean | undefined,
  ): void;
  /** A caller gave up on its own (its timeout or AbortSignal); the flight went on for the others. */
  callLeft(method: string, key: string, error: Error): void;
  /** A `@MergeWrites()` run starts its first try, for the newest of the calls it serves. */
  writeStarted(method: string, key: string): void;
  /** A failed try of a `@MergeWrites()` run is tried again; `attempt` is the new try (2, 3...). */
  writeRetried(method: string, key: string, attempt: number): void;
  /** A `@MergeWrites()` run settled, `seconds` after its first try started (retries included). */
  writeSettled(method: string, key: string, seconds: number, failed: boolean, error: unknown): void;
  /** A `@MergeWrites()` call was served by a run started for a newer call of its key. */
  writeCoalesced(method: string, key: string): void;
}
