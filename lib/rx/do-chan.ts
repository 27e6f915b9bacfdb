import { Observable } from 'rxjs';
import type { Group } from '../core/group.js';
import type { CallOptions, FlightResult, Work } from '../core/group.interfaces.js';
import { isPlainObject } from '../core/options.validator.js';

/**
 * Go's `DoChan` as an Observable: `group.doResult(key, fn, options)` as one `{ value, error,
 * shared }`, then complete. Lazy: each subscription is a call; unsubscribing is that caller leaving
 * (as its signal aborting would), and never disturbs the other callers of the flight.
 *
 * ```ts
 * doChan$(group, `user:${id}`, () => api.fetchUser(id)).subscribe(({ value, error, shared }) => {});
 * ```
 * @publicApi
 */
export function doChan$<T>(
  group: Group,
  key: string,
  fn: Work<T>,
  options: CallOptions = {},
): Observable<FlightResult<T>> {
  return new Observable<FlightResult<T>>((subscriber) => {
    const leave = new AbortController();
    // Bad options (not an object, or a bad signal) are passed on as they are, so doResult
    // reports them as { error } like any bad input.
    const given: unknown = isPlainObject(options) ? options.signal : undefined;
    const signal =
      given === undefined
        ? leave.signal
        : given instanceof AbortSignal
          ? AbortSignal.any([given, leave.signal])
          : given;
    const own = isPlainObject(options) ? { ...options, signal } : options;
    void group.doResult(key, fn, own as CallOptions).then((result) => {
      subscriber.next(result);
      subscriber.complete();
    });
    return () => leave.abort();
  });
}
