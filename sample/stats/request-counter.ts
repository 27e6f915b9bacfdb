import { Injectable } from '@nestjs/common';

/** Requests served per endpoint, counted by the controllers, for GET /stats. */
@Injectable()
export class RequestCounter {
  readonly #counts = new Map<string, number>();

  count(endpoint: string): void {
    this.#counts.set(endpoint, (this.#counts.get(endpoint) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
