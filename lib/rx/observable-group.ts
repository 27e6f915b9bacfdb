import { Observable, ReplaySubject, defer, share, tap } from 'rxjs';
import { assertFn, assertKey } from '../core/options.validator.js';

/**
 * Counters since the group was made (`ObservableGroup.stats()`).
 * @publicApi
 */
export interface ObservableGroupStats {
  /** Subscriptions to share$ Observables. */
  calls: number;
  /** Upstream subscriptions made (one per flight). */
  flights: number;
  /** Subscriptions that joined a running upstream. */
  joins: number;
  /** Keys with a running upstream. */
  size: number;
}

/**
 * Keyed flights for Observable sources that emit many values (an HttpService call, a stream).
 * Subscribers that arrive while a key's source runs share ONE upstream subscription and receive
 * every value, those emitted before they joined included. Errors and completion reach all; the
 * upstream is torn down when the last subscriber leaves, and the key is then free. Nothing is
 * kept after that: a later subscriber starts a new upstream. `@SingleFlight()` uses the app's
 * ObservableGroup for methods that return an Observable.
 *
 * ```ts
 * const observables = new ObservableGroup();
 * const user$ = observables.share$(`user:${id}`, () =>
 *   this.http.get<User>(`/users/${id}`).pipe(map((response) => response.data)),
 * );
 * user$.subscribe(render); // concurrent subscribers of `user:${id}` share one request
 * ```
 * @publicApi
 */
export class ObservableGroup {
  readonly #flights = new Map<string, Observable<unknown>>();
  readonly #counts = { calls: 0, flights: 0, joins: 0 };

  /** A lazy Observable: each subscription joins the running flight of `key` or starts one. */
  share$<T>(key: string, source: () => Observable<T>): Observable<T> {
    assertKey(key);
    assertFn(key, source);
    return defer(() => {
      this.#counts.calls++;
      const running = this.#flights.get(key) as Observable<T> | undefined;
      if (running !== undefined) {
        this.#counts.joins++;
        return running;
      }
      return this.#start(key, source);
    });
  }

  /** Counters since the group was made, and the number of keys with a running upstream. */
  stats(): ObservableGroupStats {
    return { ...this.#counts, size: this.#flights.size };
  }

  #start<T>(key: string, source: () => Observable<T>): Observable<T> {
    this.#counts.flights++;
    // Free the key before subscribers hear the end (a resubscribe starts a new flight), and on
    // teardown when the last subscriber leaves; never free a newer flight of the same key.
    const release = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    const flight: Observable<T> = defer(source).pipe(
      tap({ complete: release, error: release, finalize: release }),
      share({
        connector: () => new ReplaySubject<T>(),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: true,
      }),
    );
    this.#flights.set(key, flight);
    return flight;
  }
}
