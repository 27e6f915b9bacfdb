/**
 * What every Group scenario is compared with: the bare dedupe people write by hand, a
 * `Map<string, Promise>` whose entry is removed when the promise settles. No options, no stats, no
 * error wrapping: the fastest fair version (the entry is removed in the settle handlers, as Group
 * does, so a caller that retries at once starts a new call).
 */
export class MapDedupe {
  readonly #flights = new Map<string, Promise<unknown>>();

  do<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const flights = this.#flights;
    const inFlight = flights.get(key);
    if (inFlight !== undefined) return inFlight as Promise<T>;
    const promise = fn().then(
      (value) => {
        flights.delete(key);
        return value;
      },
      (error: unknown) => {
        flights.delete(key);
        throw error;
      },
    );
    flights.set(key, promise);
    return promise;
  }
}

/** The shape both contenders share, so one scenario loop drives either. */
export interface Dedupe {
  do<T>(key: string, fn: () => Promise<T>): Promise<T>;
}
