import type { CallKind, FlightObserver, FlightSettled, Settled } from './flight-observer.js';

/**
 * Logs a debug line for each step of a flight or `@MergeWrites()` run: start, join, cache hit,
 * settle (with the duration), a caller leaving. Made by the module when `debug` is on.
 */
export class LoggingObserver implements FlightObserver {
  /** The app's SingleflightLog, which hands the lines to the app's logger while the app runs. */
  constructor(private readonly logger: { debug(message: string): void }) {}

  called(method: string, key: string | undefined, kind: CallKind, error?: unknown): void {
    // A call that led is logged by flightStarted/writeStarted.
    if (kind === 'joined') this.#log(method, `joined the flight in progress, key "${key}"`);
    else if (kind === 'cached') this.#log(method, `answered from the cache, key "${key}"`);
    else if (kind === 'queued') this.#log(method, `waits for the run in progress, key "${key}"`);
    else if (kind === 'merged') this.#log(method, `merged into the waiting run, key "${key}"`);
    else if (kind === 'rejected')
      this.#log(method, `call failed before its flight: ${show(error)}`);
  }

  flightStarted(method: string, key: string): void {
    this.#log(method, `flight started, key "${key}"`);
  }

  flightSettled(method: string, key: string, settled: FlightSettled): void {
    const source = settled.fromCache === true ? ' from the cache store' : '';
    this.#settled(method, key, 'flight', settled, source);
  }

  callLeft(method: string, key: string, error: Error): void {
    this.#log(method, `a caller left (${error.name}), key "${key}"; the flight goes on`);
  }

  writeStarted(method: string, key: string): void {
    this.#log(method, `run started, key "${key}"`);
  }

  writeRetried(method: string, key: string, attempt: number): void {
    this.#log(method, `run failed, try ${attempt} starts, key "${key}"`);
  }

  writeSettled(method: string, key: string, settled: Settled): void {
    this.#settled(method, key, 'run', settled, '');
  }

  writeCoalesced(method: string, key: string): void {
    this.#log(method, `call served by a newer call's run, key "${key}"`);
  }

  /** A flight or run settled: its duration, and its error if it failed. */
  #settled(
    method: string,
    key: string,
    what: 'flight' | 'run',
    { seconds, failed, error }: Settled,
    source: string,
  ): void {
    this.#log(
      method,
      failed
        ? `${what} failed in ${ms(seconds)}, key "${key}": ${show(error)}`
        : `${what} settled in ${ms(seconds)}${source}, key "${key}"`,
    );
  }

  #log(method: string, message: string): void {
    this.logger.debug(`${method}: ${message}`);
  }
}

function ms(seconds: number): string {
  return `${(seconds * 1000).toFixed(1)} ms`;
}

function show(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
