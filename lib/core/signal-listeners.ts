/** The callers of one group waiting on one signal, and the one listener that serves them all. */
interface Listeners {
  readonly callers: Set<() => void>;
  readonly onAbort: () => void;
}

/**
 * The abort listeners of a group's callers, one per signal: a signal is often shared by many
 * concurrent callers (a server's shutdown signal, one request's signal passed to every call), and
 * an AbortSignal scans all its listeners to add or remove one, so one listener per caller would
 * make n callers cost n^2. Each caller is a member of its signal's Set instead, added and removed
 * in constant time; the signal holds a listener only while a caller of the group waits on it.
 */
export class SignalListeners {
  readonly #bySignal = new WeakMap<AbortSignal, Listeners>();

  /** Calls `onAbort` once when `signal` aborts, unless `remove` came first. */
  add(signal: AbortSignal, onAbort: () => void): void {
    let listeners = this.#bySignal.get(signal);
    if (listeners === undefined) {
      const callers = new Set<() => void>();
      // Each caller removes itself (a Set deletes during iteration without skipping the rest).
      listeners = { callers, onAbort: () => callers.forEach((caller) => caller()) };
      this.#bySignal.set(signal, listeners);
      signal.addEventListener('abort', listeners.onAbort, { once: true });
    }
    listeners.callers.add(onAbort);
  }

  remove(signal: AbortSignal, onAbort: () => void): void {
    const listeners = this.#bySignal.get(signal);
    if (listeners === undefined || !listeners.callers.delete(onAbort)) return;
    if (listeners.callers.size > 0) return;
    this.#bySignal.delete(signal);
    signal.removeEventListener('abort', listeners.onAbort);
  }
}
