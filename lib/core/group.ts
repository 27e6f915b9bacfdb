import type {
  CallOptions,
  FlightResult,
  GroupOptions,
  GroupStats,
  Work,
} from './group.interfaces.js';
import { type CallRules, callRules, groupRules } from './call-rules.js';
import { waitOrLeave } from './caller-wait.js';
import { rerunOnError } from './rerun.js';
import { type Flight, extraOf, newFlight } from './flight.js';
import { FlightNesting } from './flight-nesting.js';
import { type Keyspace, Keyspaces } from './keyspace.js';
import { leaveEarly, ownSignal, settle } from './leave.js';
import type { MethodFlights } from './method-flights.js';
import { assertFn, assertKey } from './options.validator.js';
import { GroupCounters } from './group-counters.js';
import {
  SingleflightAbortError,
  SingleflightReentryError,
  toError,
} from './singleflight.errors.js';
import { QuietSignals } from './quiet-signal.js';
import { SignalListeners } from './signal-listeners.js';

/** Hears which flight a call entered, and whether it waits for a retry if that flight fails. */
type Entered<T> = (flight: Flight<T>, retrier: boolean) => void;

/**
 * The flights of a decorated method, `Class.method` (no ':' in it): what `@SingleFlight()` calls.
 * They are the group's flights (its stats, `forget('Class.method:<key>')`), apart from the keys of
 * direct calls. Set by Group's static block; internal: the package does not export it.
 */
export let methodFlights: (group: Group, scope: string) => MethodFlights;

/**
 * Calls `listener` with the key of every later `group.forget(key)`, whether a flight ran or not:
 * a FlightCache linked to the group drops the key's value. Set by Group's static block; internal.
 */
export let onForget: (group: Group, listener: (key: string) => void) => void;

/**
 * Go's singleflight for promises: concurrent calls with the same key share one execution. It needs
 * no Nest; in a Nest app, inject the app's Group (the one `@SingleFlight()` uses).
 *
 * ```ts
 * const group = new Group();
 * const user = await group.do(`user:${id}`, () => api.fetchUser(id));
 * ```
 * @publicApi
 */
export class Group {
  readonly #spaces = new Keyspaces();
  /** The rules of a call without options: the group's. */
  readonly #defaults: CallRules;
  /** The rules of the one flight the joiners of a failed flight run again, any of whom may leave. */
  readonly #retryRules: CallRules;
  /** With detectAsyncReentry: the running flight and the wait-for graph. */
  readonly #nesting: FlightNesting | undefined;
  readonly #quiet = new QuietSignals();
  readonly #listeners = new SignalListeners();
  /** Told of every forget(key): a FlightCache linked to this group drops the key's value. */
  readonly #forgotten: ((key: string) => void)[] = [];
  readonly #count = new GroupCounters();

  /**
   * A group of its own: flights of one group never meet those of another. Bad options throw a
   * SingleflightOptionsError here.
   */
  constructor(options: GroupOptions = {}) {
    this.#defaults = groupRules(options);
    this.#retryRules = { ...this.#defaults, mayLeave: true };
    this.#nesting = options.detectAsyncReentry ? new FlightNesting() : undefined;
  }

  /**
   * Runs `fn` once for all concurrent callers of `key`; every caller gets the same outcome.
   * A caller that arrives once the flight has settled starts a new one.
   */
  do<T>(key: string, fn: Work<T>, options?: CallOptions): Promise<T> {
    return this.#call(this.#spaces.own, key, fn, options, undefined);
  }

  /** Like `do`, but never rejects: resolves to Go's `{ value, error, shared }`. */
  doResult<T>(key: string, fn: Work<T>, options?: CallOptions): Promise<FlightResult<T>> {
    let flight: Flight<T> | undefined;
    let retrier = false;
    const outcome = this.#call(this.#spaces.own, key, fn, options, (entered, retries) => {
      flight = entered;
      retrier = retries;
    });
    // A joiner whose flight failed with shareErrors off got the outcome of the retry flight.
    const shared = () =>
      flight !== undefined && ((retrier && flight.extra?.next) || flight).dups > 0;
    return outcome.then(
      (value) => ({ value, error: undefined, shared: shared() }),
      (error: unknown) => ({ value: undefined, error, shared: shared() }),
    );
  }

  /**
   * Later callers of `key` start a new flight. Callers already waiting still get the old outcome,
   * and the old flight, when it settles, leaves the new one alone. A decorated method's flight is
   * forgotten by its whole key, `Class.method:<key>`.
   */
  forget(key: string): void {
    this.#count.forgets += this.#spaces.release(key);
    for (const listener of this.#forgotten) listener(key);
  }

  /** Counters since the group was made, and the number of keys in flight. */
  stats(): GroupStats {
    return this.#count.stats(this.#spaces.size);
  }

  static {
    methodFlights = (group, scope) => {
      const within = group.#spaces.of(scope);
      return {
        do: (part, fn, options) => group.#call(within, part, fn, options, undefined),
        // As a call enters, a flight it started has no joiners yet (a call from inside its work
        // is refused); a flight it joined counts it among them.
        doEntered: (part, fn, options, entered) =>
          group.#call(within, part, fn, options, (flight) => entered(flight.dups > 0)),
      };
    };
    onForget = (group, listener) => group.#forgotten.push(listener);
  }

  /** Every call: joins the flight of `key` or starts one, and waits for it as its options say. */
  #call<T>(
    space: Keyspace,
    key: string,
    fn: Work<T>,
    options: CallOptions | undefined,
    entered: Entered<T> | undefined,
  ): Promise<T> {
    // A call without options that finds a flight with nothing extra (no expiry, signal, retry or
    // re-entry tracking; its work has returned) joins it as it is: #enter would give it the same
    // promise after checks that cannot fail here. Most joins are these.
    const flight = space.get(key) as Flight<T> | undefined;
    if (
      flight !== undefined &&
      flight.extra === undefined &&
      flight.promise !== undefined &&
      options === undefined &&
      entered === undefined &&
      this.#defaults.shareErrors
    ) {
      this.#join(flight);
      return flight.promise;
    }
    return this.#enter(space, key, flight, fn, options, entered);
  }

  /**
   * A call as its options say: joins the flight of `key` or starts one, and waits for it. `found`
   * is the key's flight as #call found it.
   */
  #enter<T>(
    space: Keyspace,
    key: string,
    found: Flight<T> | undefined,
    fn: Work<T>,
    options: CallOptions | undefined,
    entered: Entered<T> | undefined,
  ): Promise<T> {
    let rules = this.#defaults;
    let flight: Flight<T> | undefined;
    let joined: boolean;
    try {
      if (options !== undefined) {
        rules = callRules(options, this.#defaults);
        if (rules.signal?.aborted) return this.#abortedAtOnce(space, key, rules.signal);
        // Reading the options ran the caller's getters, which may have started or forgotten a
        // flight of this key.
        found = space.get(key) as Flight<T> | undefined;
      }
      assertKey(key);
      flight = this.#joinable(space, key, found);
      joined = flight !== undefined;
      if (flight === undefined) flight = this.#start(space, key, fn, rules);
      else this.#join(flight);
    } catch (error) {
      return Promise.reject(error);
    }
    const retrier = joined && !rules.shareErrors;
    if (entered !== undefined) entered(flight, retrier);
    // Joiners that share errors get the leader's promise itself: nothing is made per joiner.
    const outcome = retrier
      ? rerunOnError(flight, () => this.#rerun(space, key, fn))
      : flight.promise;
    // A caller with a timeout or signal stops waiting when either fires first, and leaves.
    const waited = rules.mayLeave
      ? waitOrLeave(outcome, rules.timeout, rules.signal, this.#listeners, (reason) => {
          this.#count.left(reason);
          return leaveEarly(reason, flight, space, key, retrier, rules);
        })
      : outcome;
    this.#nesting?.waits(flight, waited);
    return waited;
  }

  /**
   * The flight of `key` a call joins, given the key's `flight` now; undefined when there is none
   * or it takes no more joiners (forgetAfter), and the call starts one. Throws a SingleflightReentryError for a call from
   * inside that flight's work, which would wait for itself.
   */
  #joinable<T>(space: Keyspace, key: string, flight: Flight<T> | undefined): Flight<T> | undefined {
    if (flight === undefined) return undefined;
    const expires = flight.extra?.expires;
    if (expires !== undefined && performance.now() >= expires) {
      // Expired: it goes on for its callers, and the call that found it takes the key.
      space.release(key, flight);
      return undefined;
    }
    // No promise yet: its work is running now, and this call comes from inside it.
    if (flight.promise === undefined) this.#refuse(space, key, undefined);
    const refusal = this.#nesting?.refusal(flight, () => space.whole(key));
    if (refusal !== undefined) this.#refuse(space, key, refusal);
    return flight;
  }

  /** A call that would wait for itself: refused with a SingleflightReentryError. */
  #refuse(space: Keyspace, key: string, message: string | undefined): never {
    this.#count.refused++;
    throw new SingleflightReentryError(space.whole(key), message);
  }

  #join(flight: Flight): void {
    flight.dups++;
    flight.waiting++;
    this.#count.joins++;
  }

  /**
   * A new flight of the free `key`, which takes it. Its work runs now:
   * calls it makes before its first `await` find the flight without a promise.
   */
  #start<T>(space: Keyspace, key: string, fn: Work<T>, rules: CallRules): Flight<T> {
    if (typeof fn !== 'function') {
      this.#count.refused++;
      assertFn(space.whole(key), fn);
    }
    const flight = newFlight<T>();
    const nesting = this.#nesting;
    nesting?.place(flight, space.whole(key));
    if (rules.forgetAfter !== undefined) {
      extraOf(flight).expires = performance.now() + rules.forgetAfter;
    }
    space.take(key, flight);
    this.#count.flights++;
    try {
      // In the try, as everything after the key is taken: `fn.length` of a Proxy can throw.
      const signal = rules.mayLeave ? ownSignal(flight, fn) : this.#quiet.next();
      const result = nesting ? nesting.run(flight, fn, signal!) : fn(signal!);
      // The key is freed in these handlers, before any caller hears the outcome, so a caller
      // that retries at once starts a new flight. A promise whose `then` throws lands in the catch.
      flight.promise = Promise.resolve(result).then(
        (value) => {
          settle(flight, space, key);
          return value;
        },
        (thrown: unknown) => {
          if (!flight.settled) this.#count.errors++;
          settle(flight, space, key);
          throw toError(space.whole(key), thrown);
        },
      );
    } catch (thrown) {
      // Freed at once: a synchronous throw must never leave the key taken.
      settle(flight, space, key);
      this.#count.errors++;
      flight.promise = Promise.reject(toError(space.whole(key), thrown));
    }
    return flight;
  }

  /** The one new flight the joiners of a failed flight run, entered as one caller. */
  #rerun<T>(space: Keyspace, key: string, fn: Work<T>): Flight<T> {
    this.#count.reruns++;
    const found = this.#joinable(space, key, space.get(key) as Flight<T> | undefined);
    if (found === undefined) return this.#start(space, key, fn, this.#retryRules);
    this.#join(found);
    return found;
  }

  /** A caller whose signal aborted before the call: it neither starts nor joins a flight. */
  #abortedAtOnce<T>(space: Keyspace, key: string, signal: AbortSignal): Promise<T> {
    assertKey(key);
    this.#count.refused++;
    this.#count.aborts++;
    return Promise.reject(new SingleflightAbortError(space.whole(key), signal.reason));
  }
}
