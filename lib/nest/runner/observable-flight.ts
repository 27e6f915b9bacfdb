import { type Observable, throwError } from 'rxjs';
import {
  type ObservableGroup,
  type ObservableGroupOptions,
  methodShare$,
} from '../../rx/observable-group.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import { SharedProbe } from '../observe/flight-probe.js';
import { type Method, type CallKeys, type MethodStrategy, Refused } from './method-strategy.js';

/**
 * A method that returns an Observable: subscribers with one key share one upstream subscription
 * in the app's ObservableGroup. It stays in this process (an Observable cannot travel between
 * instances) and is never cached. With an observer, probes watch each subscription.
 */
export class ObservableFlight implements MethodStrategy {
  constructor(
    private readonly keys: CallKeys,
    private readonly observables: ObservableGroup,
    /** The method's own `replay`; undefined: the app's ObservableGroup's. */
    private readonly replay: ObservableGroupOptions | undefined,
    private readonly observer: FlightObserver | undefined,
  ) {}

  call(self: object, method: Method, args: unknown[]): Observable<unknown> {
    const part = this.keys.part(self, args);
    if (part instanceof Refused) return throwError(() => part.error);
    const key = this.keys.whole(part);
    return this.share$(key, () => method.apply(self, args) as Observable<unknown>);
  }

  /** The shared Observable of `key`, whose first subscription subscribes `source()`. */
  share$(key: string, source: () => Observable<unknown>): Observable<unknown> {
    const { observables, replay, observer } = this;
    if (observer === undefined) return methodShare$(observables, key, source, replay);
    const probe = new SharedProbe(observer, this.keys.meta.scope, key);
    return methodShare$(observables, key, probe.source(source), replay, probe.entered);
  }

  /**
   * Shares an Observable the method returned on its first call (see FirstCall): that call was
   * reported as a Promise flight's, so its subscriptions are not reported again.
   */
  shareReturned(key: string, returned: Observable<unknown>): Observable<unknown> {
    return methodShare$(this.observables, key, () => returned, this.replay);
  }
}
