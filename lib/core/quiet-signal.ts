import { setMaxListeners } from 'node:events';

/** How many runs share one quiet signal before the next one is made. */
export const QUIET_SHARED_BY = 4096;

/**
 * Signals that never abort, for work that nobody can abandon: a flight whose leader has neither a
 * timeout nor a signal waits to the end, so the signal its work gets would never fire anyway.
 * One is shared by up to QUIET_SHARED_BY runs and then let go, so listeners that work never
 * removes are kept for a while, not for good. Its listener limit is the same number: a warning
 * past it means a leak.
 */
export class QuietSignals {
  #signal = quietSignal();
  #left = QUIET_SHARED_BY;

  next(): AbortSignal {
    if (--this.#left === 0) {
      this.#signal = quietSignal();
      this.#left = QUIET_SHARED_BY;
    }
    return this.#signal;
  }
}

function quietSignal(): AbortSignal {
  const { signal } = new AbortController();
  setMaxListeners(QUIET_SHARED_BY, signal);
  return signal;
}
