/**
 * After a coordination error, Redis is skipped for `ms` so that callers do not each pay a timeout
 * against a server that is down or hung; `reset()` closes it early (the client is ready again).
 */
export class CircuitBreaker {
  #openUntil = 0;

  constructor(private readonly ms: number) {}

  get isOpen(): boolean {
    return this.#openUntil !== 0 && Date.now() < this.#openUntil;
  }

  /** Opens the breaker; true when it was closed, so the caller logs once per outage. */
  trip(): boolean {
    const wasClosed = !this.isOpen;
    this.#openUntil = Date.now() + this.ms;
    return wasClosed;
  }

  reset(): void {
    this.#openUntil = 0;
  }
}
