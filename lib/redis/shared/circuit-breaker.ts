/**
 * After a coordination error, Redis is skipped for `ms` so that callers do not each pay a timeout
 * against a server that is down or hung; `reset()` closes it early (the client is ready again).
 */
export class CircuitBreaker {
  #openUntil = 0;

  constructor(private readonly ms: number) {}

  get isOpen(): boolean {
    return Date.now() < this.#openUntil;
  }

  /** Opens the breaker for `ms` from now. */
  trip(): void {
    this.#openUntil = Date.now() + this.ms;
  }

  reset(): void {
    this.#openUntil = 0;
  }
}
