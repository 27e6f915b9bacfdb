/**
 * Which of an adapter's connections (the user's client, the subscriber) are down. Listeners hear
 * once when the first one goes down and once when the last one is back, however many events the
 * clients emit in between (both emit one per failed reconnect attempt).
 */
export class ConnectionHealth {
  readonly #down = new Set<string>();
  readonly #lost = new Set<() => void>();
  readonly #ready = new Set<() => void>();

  down(connection: string): void {
    const wasUp = this.#down.size === 0;
    this.#down.add(connection);
    if (wasUp) for (const listener of this.#lost) callIsolated(listener);
  }

  up(connection: string): void {
    if (!this.#down.delete(connection) || this.#down.size > 0) return;
    for (const listener of this.#ready) callIsolated(listener);
  }

  onLost(listener: () => void): () => void {
    return addListener(this.#lost, listener);
  }

  onReady(listener: () => void): () => void {
    return addListener(this.#ready, listener);
  }

  clear(): void {
    this.#lost.clear();
    this.#ready.clear();
  }
}

function addListener(listeners: Set<() => void>, listener: () => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

/**
 * Calls a listener from inside a Redis client's event or reply handler. A throw must not unwind
 * into the client (node-redis would reset its reply decoder), so it is rethrown on its own: it
 * still surfaces as an uncaught exception, like a throwing listener anywhere else.
 */
export function callIsolated<A extends unknown[]>(
  listener: (...args: A) => void,
  ...args: A
): void {
  try {
    listener(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
