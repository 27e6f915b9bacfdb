import type { CallOptions } from '../../core/group.interfaces.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import { FlightProbe } from '../observe/flight-probe.js';
import type { CachedWork, FleetWork } from './flight-work.js';
import type { MethodFlights } from '../../core/method-flights.js';
import type { CallKeys } from './method-strategy.js';
import { type Peek, PromiseFlight } from './promise-flight.js';

/**
 * A Promise method's flights with metrics or debug logs on: as PromiseFlight, with probes that
 * report each call (cached, led or joined), each flight and each caller that left. The cache and
 * the fleet are kept apart so that the probe sees whether the cache ran the work inside it.
 */
export class ObservedFlight extends PromiseFlight {
  constructor(
    keys: CallKeys,
    flights: MethodFlights,
    options: CallOptions | undefined,
    private readonly observer: FlightObserver,
    private readonly cache: CachedWork | undefined,
    private readonly fleet: FleetWork | undefined,
    private readonly peek: Peek | undefined,
  ) {
    super(keys, flights, options, undefined);
  }

  override flight(part: string, run: () => unknown): Promise<unknown> {
    const { observer, cache, fleet, options } = this;
    const scope = this.keys.meta.scope;
    const key = this.keys.whole(part);
    const hit = this.peek?.(part);
    if (hit !== undefined) {
      observer.called(scope, key, 'cached');
      return hit;
    }
    const probe = new FlightProbe(observer, scope, key, cache !== undefined);
    let work = probe.work(fleet === undefined ? run : fleet.around(key, run));
    if (cache !== undefined) work = cache.around(key, work);
    const outcome = this.flights.doEntered(part, probe.flight(work), options, probe.entered);
    return probe.called(outcome, options);
  }
}
