import { Observable, ReplaySubject, Subject, defer, share, tap } from 'rxjs';
import {
  type OptionRule,
  assertFn,
  assertKey,
  validateOptions,
} from '../core/options.validator.js';

/** How many earlier values a late subscriber gets when no `replay` is given. */
export const DEFAULT_REPLAY = 1;

export const REPLAY: OptionRule = [
  'a whole number of values >= 0, or Infinity for every value',
  (v) => v === Infinity || (Number.isInteger(v) && (v as number) >= 0),
];
const RULES = { replay: REPLAY } as const;

/**
 * Options of `new ObservableGroup()` (the group's default) and of one `share$()` call.
 * @publicApi
 */
export interface ObservableGroupOptions {
  /**
   * How many of the values the source emitted before a subscriber joined that subscriber gets
   * (the newest ones), before every later value. `0`: later values only. `Infinity`: every value
   * from the first, all kept until the source ends: only for a source that ends (an HTTP call, a
   * progress report), never for a stream. A flight keeps at most `replay` values, so its memory
   * stays flat for a source that never completes; it keeps the window of the call that started it.
   *
   * ```ts
   * new ObservableGroup({ replay: 0 }); // a live feed: joiners get what comes next
   * observables.share$(`job:${id}`, () => job$, { replay: Infinity }); // every step of a job
   * ```
   * @default 1 (the latest value, as `shareReplay(1)`)
   */
  replay?: number;
}

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

/** Told as each subscription enters whether it joined the running upstream (true) or starts it. */
type Entered = (joined: boolean) => void;

/** Set by ObservableGroup's static block: `methodShare$` reaches its private parts through it. */
let methodShare$Of: <T>(
  group: ObservableGroup,
  key: string,
  source: () => Observable<T>,
  options: ObservableGroupOptions | undefined,
  entered: Entered | undefined,
) => Observable<T>;

/**
 * Keyed flights for Observable sources that emit many values (an HttpService call, a stream).
 * Subscribers that arrive while a key's source runs share ONE upstream subscription: each gets the
 * last `replay` values emitted before it joined (default 1), then every later value. Errors and
 * completion reach all; the upstream is torn down when the last subscriber leaves, and the key is
 * then free. Nothing is kept after that: a later subscriber starts a new upstream.
 * `@SingleFlight()` uses the app's ObservableGroup for methods that return an Observable; their
 * flights count in its stats, but a `share$` call never joins one, whatever its key.
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
  /**
   * Decorated methods' flights, by whole key (`Class.method:<key>`): apart from `share$` keys, so
   * a direct caller never joins a method's upstream by naming its key, nor the other way round.
   */
  readonly #methods = new Map<string, Observable<unknown>>();
  readonly #counts = { calls: 0, flights: 0, joins: 0 };
  readonly #replay: number;

  constructor(options: ObservableGroupOptions = {}) {
    validateOptions('ObservableGroup options', options, RULES);
    this.#replay = options.replay ?? DEFAULT_REPLAY;
  }

  /**
   * A lazy Observable: each subscription joins the running flight of `key` or starts one, which
   * replays `options.replay` values (default: the group's) to the subscribers that join it.
   */
  share$<T>(
    key: string,
    source: () => Observable<T>,
    options?: ObservableGroupOptions,
  ): Observable<T> {
    return this.#share$(this.#flights, key, source, options, undefined);
  }

  /** Counters since the group was made, and the number of keys with a running upstream. */
  stats(): ObservableGroupStats {
    return { ...this.#counts, size: this.#flights.size + this.#methods.size };
  }

  static {
    methodShare$Of = (group, key, source, options, entered) =>
      group.#share$(group.#methods, key, source, options, entered);
  }

  /** Each subscription joins the running upstream of `key` or starts one, telling `entered` which. */
  #share$<T>(
    flights: Map<string, Observable<unknown>>,
    key: string,
    source: () => Observable<T>,
    options: ObservableGroupOptions | undefined,
    entered: Entered | undefined,
  ): Observable<T> {
    assertKey(key);
    assertFn(key, source);
    if (options !== undefined) validateOptions(`share$("${key}") options`, options, RULES);
    const replay = options?.replay ?? this.#replay;
    return defer(() => {
      this.#counts.calls++;
      const running = flights.get(key) as Observable<T> | undefined;
      if (running !== undefined) {
        this.#counts.joins++;
        entered?.(true);
        return running;
      }
      entered?.(false);
      return this.#start(flights, key, source, replay);
    });
  }

  #start<T>(
    flights: Map<string, Observable<unknown>>,
    key: string,
    source: () => Observable<T>,
    replay: number,
  ): Observable<T> {
    this.#counts.flights++;
    // Free the key before subscribers hear the end (a resubscribe starts a new flight), and on
    // teardown when the last subscriber leaves; never free a newer flight of the same key.
    const release = () => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    const flight: Observable<T> = defer(source).pipe(
      tap({ complete: release, error: release, finalize: release }),
      share({
        // The buffer holds at most `replay` values, whatever the source emits.
        connector: () => (replay === 0 ? new Subject<T>() : new ReplaySubject<T>(replay)),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: true,
      }),
    );
    flights.set(key, flight);
    return flight;
  }
}

/**
 * `group.share$(key, source, options)` for a decorated method's whole key (`Class.method:<key>`):
 * its flights are the group's (its stats), apart from those of direct `share$` calls. With
 * `entered`, each subscription is told as it enters whether it joined the running upstream or
 * starts it. Internal: the package does not export it.
 */
export function methodShare$<T>(
  group: ObservableGroup,
  key: string,
  source: () => Observable<T>,
  options: ObservableGroupOptions | undefined,
  entered?: Entered,
): Observable<T> {
  return methodShare$Of(group, key, source, options, entered);
}
