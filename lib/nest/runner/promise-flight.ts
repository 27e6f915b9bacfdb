import type { CallOptions } from '../../core/group.interfaces.js';
import type { FlightWork } from './flight-work.js';
import type { MethodFlights } from '../../core/method-flights.js';
import { type Method, type CallKeys, type MethodStrategy, Refused } from './method-strategy.js';

/**
 * A method that returns a Promise: concurrent calls with one key share a flight in the app's
 * Group. The flight's work is the method's run, or what `work` does around it (cache, fleet).
 */
export class PromiseFlight implements MethodStrategy {
  constructor(
    protected readonly keys: CallKeys,
    protected readonly flights: MethodFlights,
    protected readonly options: CallOptions | undefined,
    protected readonly work: FlightWork | undefined,
  ) {}

  call(self: object, method: Method, args: unknown[]): Promise<unknown> {
    const part = this.keys.part(self, args);
    if (part instanceof Refused) return Promise.reject(part.error);
    return this.flight(part, () => method.apply(self, args));
  }

  /** The outcome of the call with key part `part`: its flight's, started or joined. */
  flight(part: string, run: () => unknown): Promise<unknown> {
    const work = this.work;
    // The whole key is built only for a work around the run, which needs it.
    const fn = work === undefined ? run : work.around(this.keys.whole(part), run);
    return this.flights.do(part, fn, this.options);
  }
}

/** A hit in this process's cache, by key part: a settled promise of the value, else undefined. */
export type Peek = (part: string) => Promise<unknown> | undefined;

/**
 * A Promise method with a ttl whose hits this process's cache answers: such a call needs no
 * flight (and no whole key); the others share one whose work goes through the cache.
 */
export class CachedFlight extends PromiseFlight {
  constructor(
    keys: CallKeys,
    flights: MethodFlights,
    options: CallOptions | undefined,
    work: FlightWork,
    private readonly peek: Peek,
  ) {
    super(keys, flights, options, work);
  }

  override flight(part: string, run: () => unknown): Promise<unknown> {
    return this.peek(part) ?? super.flight(part, run);
  }
}
