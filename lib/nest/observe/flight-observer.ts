/**
 * How one call of a decorated method was served, as its engine told it when it entered:
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

/** How a flight's work or a `@MergeWrites()` run ended. */
export interface Settled {
  /** From the start of the work to its settle. */
  readonly seconds: number;
  /** Whether it threw or rejected, with `error`. */
  readonly failed: boolean;
  readonly error: unknown;
}

/** How a flight's work ended. */
export interface FlightSettled extends Settled {
  /**
   * When the flight went through the cache: true when the cache store had the value (the method
   * did not run), false when the method ran; undefined without caching.
   */
  readonly fromCache: boolean | undefined;
}

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
  /** A flight's work settled. */
  flightSettled(method: string, key: string, settled: FlightSettled): void;
  /** A caller gave up on its own (its timeout or AbortSignal); the flight went on for the others. */
  callLeft(method: string, key: string, error: Error): void;
  /** A `@MergeWrites()` run starts its first try, for the newest of the calls it serves. */
  writeStarted(method: string, key: string): void;
  /** A failed try of a `@MergeWrites()` run is tried again; `attempt` is the new try (2, 3...). */
  writeRetried(method: string, key: string, attempt: number): void;
  /** A `@MergeWrites()` run settled; its `seconds` count from its first try (retries included). */
  writeSettled(method: string, key: string, settled: Settled): void;
  /** A `@MergeWrites()` call was served by a run started for a newer call of its key. */
  writeCoalesced(method: string, key: string): void;
}
