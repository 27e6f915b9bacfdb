import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  CallOptions,
  FlightResult,
  GroupOptions,
  GroupStats,
  Work,
} from './group.interfaces.js';
import {
  BOOLEAN,
  DURATION,
  SIGNAL,
  forTimer,
  assertFn,
  assertKey,
  validateOptions,
} from './options.validator.js';
import {
  SingleflightAbortError,
  SingleflightReentryError,
  SingleflightTimeoutError,
  toError,
} from './singleflight.errors.js';
import { QuietSignals } from './quiet-signal.js';
import { SignalListeners } from './signal-listeners.js';
import { type WaitNode, cycleTo, runAs, waitFor, waitingNode } from './wait-for.js';
import * as messages from './singleflight.messages.js';

const GROUP_RULES = {
  forgetAfter: DURATION,
  shareErrors: BOOLEAN,
  detectAsyncReentry: BOOLEAN,
} as const;
const CALL_RULES = {
  timeout: forTimer(DURATION),
  signal: SIGNAL,
  forgetAfter: DURATION,
  shareErrors: BOOLEAN,
} as const;

/**
 * One execution of the work for a key, and what its callers share. It is the one object a flight
 * allocates besides its promise, so it holds only what every flight needs (each field costs
 * measurably in the unique-keys benchmark); the rest waits in `extra`, made when first needed.
 */
class Flight<T = unknown> {
  /** Undefined while the work runs synchronously: a call that joins then comes from inside it. */
  promise!: Promise<T>;
  /** Callers that joined after the leader (Go's `dups`). */
  dups = 0;
  /** Callers still waiting; when the last one leaves, the work is aborted and the key freed. */
  waiting = 1;
  settled = false;
  /** Whether its keyspace maps the key to this flight: settling then needs no lookup to know. */
  linked = true;
  extra: FlightExtra<T> | undefined = undefined;
}

/**
 * Flights whose keys share a prefix: the group's own keys (no prefix), or a decorated method's,
 * `Class.method:`. A method's flights live in a Map of their own, keyed by the part after the
 * prefix, so a call needs no long key built and hashed.
 */
class Keyspace {
  readonly flights = new Map<string, Flight>();
  constructor(readonly prefix: string) {}

  /** The key as users see it, in errors and in `forget()`; built only when needed. */
  whole(key: string): string {
    return this.prefix === '' ? key : this.prefix + key;
  }
}

/**
 * The flights of one decorated method in a Group: `do(part)` is `group.do(`${scope}:${part}`)`
 * without building that key.
 */
export interface MethodFlights {
  do<T>(part: string, fn: Work<T>, options?: CallOptions): Promise<T>;
}

/** Set by Group's static block: the two functions below reach its private parts through them. */
let methodFlightsOf: (group: Group, scope: string) => MethodFlights;
let onForgetOf: (group: Group, listener: (key: string) => void) => void;

/** What only some flights need: a signal, an expiry, a parent flight, a retry on error. */
class FlightExtra<T> {
  /** With detectAsyncReentry: the flight whose work started this one, to tell re-entry from nesting. */
  parent: Flight | undefined = undefined;
  /** With detectAsyncReentry: this flight in the wait-for graph, to find a cycle between flights. */
  node: WaitNode | undefined = undefined;
  controller: AbortController | undefined = undefined;
  /**
   * When the flight stops taking joiners (forgetAfter); undefined: never, and no clock read per
   * join. Not Infinity: a number field is a separate heap box in V8, one more allocation per flight.
   */
  expires: number | undefined = undefined;
  /** With shareErrors off: the one new flight the joiners of this one run if it fails. */
  retry: Promise<T> | undefined = undefined;
  /** Joiners waiting on `retry` that have not left: they become waiters of `next`. */
  retriers = 0;
  /** The flight `retry` started or joined; a joiner that leaves now leaves that one. */
  next: Flight<T> | undefined = undefined;
}

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
  readonly #own = new Keyspace('');
  /** Decorated methods' keyspaces by scope (`Class.method`, never with a ':' in it). */
  readonly #scopes = new Map<string, Keyspace>();
  // The counters of stats(). Those of every call are fields of their own (one load less each), and
  // `calls` is flights + joins + refused - reruns: one increment less per call.
  #flights = 0;
  #joins = 0;
  /** Calls that neither started nor joined a flight: re-entries, bad work, aborted before. */
  #refused = 0;
  /**
   * Second runs for the joiners of a failed flight (shareErrors off): each is counted as a flight
   * or a join like a call, but those joiners were counted already.
   */
  #reruns = 0;
  readonly #counts = {
    errors: 0,
    timeouts: 0,
    aborts: 0,
    forgets: 0,
  };
  readonly #forgetAfter: number | undefined;
  readonly #shareErrors: boolean;
  readonly #context: AsyncLocalStorage<Flight> | undefined;
  /** Whether a call without options can take #plain: no option of the group's asks for more. */
  readonly #plainGroup: boolean;
  readonly #quiet = new QuietSignals();
  readonly #listeners = new SignalListeners();
  /** Set by #enter for its caller: whether that call joined rather than led. */
  #joined = false;
  /** Told of every forget(key): a FlightCache linked to this group drops the key's value. */
  readonly #forgotten: ((key: string) => void)[] = [];

  /**
   * A group of its own: flights of one group never meet those of another. Bad options throw a
   * SingleflightOptionsError here.
   */
  constructor(options: GroupOptions = {}) {
    validateOptions('Group options', options, GROUP_RULES);
    this.#forgetAfter = options.forgetAfter;
    this.#shareErrors = options.shareErrors ?? true;
    this.#context = options.detectAsyncReentry ? new AsyncLocalStorage() : undefined;
    this.#plainGroup = this.#forgetAfter === undefined && this.#context === undefined;
  }

  /**
   * Runs `fn` once for all concurrent callers of `key`; every caller gets the same outcome.
   * A caller that arrives once the flight has settled starts a new one.
   */
  do<T>(key: string, fn: Work<T>, options?: CallOptions): Promise<T> {
    return this.#do(this.#own, key, fn, options);
  }

  /** Like `do`, but never rejects: resolves to Go's `{ value, error, shared }`. */
  doResult<T>(key: string, fn: Work<T>, options?: CallOptions): Promise<FlightResult<T>> {
    let flight: Flight<T> | undefined;
    let retrier = false;
    const outcome = this.#call(this.#own, key, fn, options, (entered, retries) => {
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
    this.#forget(this.#own, key);
    // A decorated method's key, `Class.method:<key>`: its scope has no ':'.
    const colon = key.indexOf(':');
    const space = colon < 0 ? undefined : this.#scopes.get(key.slice(0, colon));
    if (space !== undefined) this.#forget(space, key.slice(colon + 1));
    for (const listener of this.#forgotten) listener(key);
  }

  /** Counters since the group was made, and the number of keys in flight. */
  stats(): GroupStats {
    let size = this.#own.flights.size;
    for (const space of this.#scopes.values()) size += space.flights.size;
    const flights = this.#flights;
    const joins = this.#joins;
    const calls = flights + joins + this.#refused - this.#reruns;
    return { calls, flights, joins, ...this.#counts, size };
  }

  static {
    methodFlightsOf = (group, scope) => {
      let space = group.#scopes.get(scope);
      if (space === undefined) group.#scopes.set(scope, (space = new Keyspace(`${scope}:`)));
      const within = space;
      return { do: (part, fn, options) => group.#do(within, part, fn, options) };
    };
    onForgetOf = (group, listener) => group.#forgotten.push(listener);
  }

  #do<T>(space: Keyspace, key: string, fn: Work<T>, options: CallOptions | undefined): Promise<T> {
    return options === undefined
      ? this.#plain(space, key, fn)
      : this.#call(space, key, fn, options, undefined);
  }

  #forget(space: Keyspace, key: string): void {
    const flight = space.flights.get(key);
    if (flight === undefined) return;
    flight.linked = false;
    space.flights.delete(key);
    this.#counts.forgets++;
  }

  /**
   * A call without options, the common one, on a short path: each step of #call shows in the
   * unique-keys benchmark. Whatever is unusual (bad input, a re-entry, a flight that expires,
   * errors not shared) goes to #call before anything is counted.
   */
  #plain<T>(space: Keyspace, key: string, fn: Work<T>): Promise<T> {
    if (this.#plainGroup && typeof key === 'string') {
      const flight = space.flights.get(key) as Flight<T> | undefined;
      if (flight === undefined) {
        if (typeof fn === 'function') return this.#start(space, key, fn, undefined, false).promise;
      } else if (
        flight.promise !== undefined &&
        flight.extra?.expires === undefined &&
        this.#shareErrors
      ) {
        this.#join(flight);
        return flight.promise;
      }
    }
    return this.#call(space, key, fn, undefined, undefined);
  }

  /**
   * What do and doResult share: the outcome this caller waits for. `entered` hears which flight it
   * joined or led, and whether it retries on error; plain `do` passes none, so joiners cost nothing.
   */
  #call<T>(
    space: Keyspace,
    key: string,
    fn: Work<T>,
    options: CallOptions | undefined,
    entered: ((flight: Flight<T>, retrier: boolean) => void) | undefined,
  ): Promise<T> {
    let flight: Flight<T>;
    try {
      let mayLeave = false;
      if (options !== undefined) {
        validateOptions('call options', options, CALL_RULES);
        if (options.signal?.aborted) return this.#abortedAtOnce(space, key, options.signal);
        mayLeave = options.timeout !== undefined || options.signal !== undefined;
      }
      flight = this.#enter(space, key, fn, options?.forgetAfter, mayLeave);
    } catch (error) {
      return Promise.reject(error);
    }
    const retrier = this.#joined && !(options?.shareErrors ?? this.#shareErrors);
    if (entered !== undefined) entered(flight, retrier);
    // Plain joiners get the leader's promise itself: nothing is allocated per joiner.
    const outcome = retrier ? this.#retryOnError(flight, space, key, fn) : flight.promise;
    const waited =
      options === undefined ? outcome : this.#wait(flight, space, key, outcome, options, retrier);
    // With detectAsyncReentry, a call from inside a flight's work: that flight waits for this one.
    // The work may be another engine's (a MergeWrites run): the graph is one for both.
    const from = this.#context === undefined ? undefined : waitingNode();
    if (from !== undefined) waitFor(from, flight.extra!.node!, waited);
    return waited;
  }

  /**
   * Joins the flight of `key` or starts one; sets #joined to say which. `mayLeave`: whether the
   * caller can leave early (a timeout or a signal), so a flight it starts can be abandoned.
   */
  #enter<T>(
    space: Keyspace,
    key: string,
    fn: Work<T>,
    forgetAfter: number | undefined = this.#forgetAfter,
    mayLeave: boolean,
  ): Flight<T> {
    assertKey(key);
    const flight = space.flights.get(key) as Flight<T> | undefined;
    if (flight !== undefined && this.#joinable(flight)) {
      const context = this.#context?.getStore();
      // No promise yet: its work is running now, and this call comes from inside it.
      if (flight.promise === undefined || isWithin(context, flight)) {
        this.#refused++;
        throw new SingleflightReentryError(space.whole(key));
      }
      const cycle = this.#context === undefined ? undefined : cycleTo(flight.extra!.node!);
      if (cycle !== undefined) {
        this.#refused++;
        throw new SingleflightReentryError(space.whole(key), messages.REENTRY_CYCLE(cycle));
      }
      this.#join(flight);
      this.#joined = true;
      return flight;
    }
    // The whole key only for the message: building it costs a decorated call a string.
    if (typeof fn !== 'function') {
      this.#refused++;
      assertFn(space.whole(key), fn);
    }
    // An expired flight loses its key to the new one (forgetAfter).
    if (flight !== undefined) flight.linked = false;
    const started = this.#start(space, key, fn, forgetAfter, mayLeave);
    // Set after the work ran: a nested call inside it may have set #joined for its own key.
    this.#joined = false;
    return started;
  }

  #join(flight: Flight): void {
    flight.dups++;
    flight.waiting++;
    this.#joins++;
  }

  #joinable(flight: Flight): boolean {
    const expires = flight.extra?.expires;
    return expires === undefined || performance.now() < expires;
  }

  #start<T>(
    space: Keyspace,
    key: string,
    fn: Work<T>,
    forgetAfter: number | undefined,
    abandonable: boolean,
  ): Flight<T> {
    // Rare parts are helpers, so that V8 inlines #start (at most 460 bytes of bytecode).
    const flight = new Flight<T>();
    if (forgetAfter !== undefined || this.#context !== undefined) {
      this.#extend(flight, space, key, forgetAfter);
    }
    space.flights.set(key, flight);
    this.#flights++;
    try {
      // A signal of its own only where it can fire: making one costs more than a flight. In the
      // try, as everything after the key is taken: `fn.length` of a Proxy can throw.
      const signal = abandonable ? ownSignal(flight, fn) : this.#quiet.next();
      const result = this.#context
        ? this.#context.run(flight, runAs, flight.extra!.node!, fn, [signal!])
        : fn(signal!);
      // The key is released in these handlers, before any waiter hears the outcome, so a caller
      // that retries at once starts a new flight. A promise whose `then` throws lands in the catch.
      flight.promise = Promise.resolve(result).then(
        (value) => {
          this.#settle(flight, space, key);
          return value;
        },
        (thrown: unknown) => {
          if (!flight.settled) this.#counts.errors++;
          this.#settle(flight, space, key);
          throw toError(space.whole(key), thrown);
        },
      );
    } catch (thrown) {
      this.#thrownAtOnce(flight, space, key, thrown);
    }
    return flight;
  }

  /** What only some flights have: an expiry (forgetAfter), a parent and a node (detectAsyncReentry). */
  #extend(flight: Flight, space: Keyspace, key: string, forgetAfter: number | undefined): void {
    if (this.#context !== undefined) {
      const parent = this.#context.getStore();
      if (parent !== undefined) extraOf(flight).parent = parent;
      extraOf(flight).node = { key: space.whole(key), waitsOn: undefined };
    }
    if (forgetAfter !== undefined) extraOf(flight).expires = performance.now() + forgetAfter;
  }

  /** Release at once: a synchronous throw must never leave the key poisoned. */
  #thrownAtOnce(flight: Flight, space: Keyspace, key: string, thrown: unknown): void {
    this.#settle(flight, space, key);
    this.#counts.errors++;
    flight.promise = Promise.reject(toError(space.whole(key), thrown));
  }

  /** Marks the flight settled and frees its key, unless forget() already gave the key a new one. */
  #settle(flight: Flight, space: Keyspace, key: string): void {
    flight.settled = true;
    // `linked` stands for `space.flights.get(key) === flight`, without a second lookup per flight.
    if (flight.linked) {
      flight.linked = false;
      space.flights.delete(key);
    }
  }

  #retryOnError<T>(flight: Flight<T>, space: Keyspace, key: string, fn: Work<T>): Promise<T> {
    const extra = extraOf(flight);
    extra.retriers++;
    return (extra.retry ??= flight.promise.catch((error: unknown) => {
      // Every joiner left while the first flight ran: nobody to run it again for.
      if (extra.retriers === 0) throw error;
      this.#reruns++;
      const next = (extra.next = this.#enter(space, key, fn, undefined, true));
      // #enter counted the joiners as one caller; each waits (and may leave) on its own.
      next.waiting += extra.retriers - 1;
      next.dups += extra.retriers - 1;
      // With detectAsyncReentry: what waited for the failed flight now waits for this one.
      if (extra.node !== undefined) waitFor(extra.node, next.extra!.node!, next.promise);
      return next.promise;
    }));
  }

  /** A caller whose signal aborted before the call: it neither starts nor joins a flight. */
  #abortedAtOnce<T>(space: Keyspace, key: string, signal: AbortSignal): Promise<T> {
    assertKey(key);
    this.#refused++;
    this.#counts.aborts++;
    return Promise.reject(new SingleflightAbortError(space.whole(key), signal.reason));
  }

  /** Waits for `outcome` unless this caller's timeout or signal fires first. */
  #wait<T>(
    flight: Flight<T>,
    space: Keyspace,
    key: string,
    outcome: Promise<T>,
    { timeout, signal }: CallOptions,
    retrier: boolean,
  ): Promise<T> {
    if (timeout === undefined && signal === undefined) return outcome;
    if (signal?.aborted) {
      // Aborted by the work itself, synchronously: nobody else may hold `outcome`.
      outcome.then(undefined, ignore);
      this.#counts.aborts++;
      this.#leave(flight, space, key, retrier);
      return Promise.reject(new SingleflightAbortError(space.whole(key), signal.reason));
    }
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stop = () => {
        clearTimeout(timer);
        if (signal !== undefined) this.#listeners.remove(signal, onAbort);
      };
      const onAbort = () => {
        stop();
        this.#counts.aborts++;
        this.#leave(flight, space, key, retrier);
        reject(new SingleflightAbortError(space.whole(key), signal!.reason));
      };
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          stop();
          this.#counts.timeouts++;
          this.#leave(flight, space, key, retrier);
          reject(new SingleflightTimeoutError(space.whole(key), timeout));
        }, timeout);
      }
      if (signal !== undefined) this.#listeners.add(signal, onAbort);
      outcome.then(
        (value) => {
          stop();
          resolve(value);
        },
        (error: unknown) => {
          stop();
          reject(error);
        },
      );
    });
  }

  /** A caller left early. When it was the last, abort the work and free the key for new callers. */
  #leave(flight: Flight, space: Keyspace, key: string, retrier: boolean): void {
    if (retrier) {
      // The joiner waits on the retry flight once it began, and is no longer a retrier either way.
      const extra = extraOf(flight);
      if (extra.next !== undefined) return this.#leave(extra.next, space, key, false);
      extra.retriers--;
    }
    if (flight.settled || --flight.waiting > 0) return;
    this.#settle(flight, space, key);
    const whole = space.whole(key);
    flight.extra?.controller?.abort(
      new SingleflightAbortError(whole, undefined, messages.ABANDONED(whole)),
    );
  }
}

function ignore(): void {}

function isWithin(context: Flight | undefined, flight: Flight): boolean {
  for (let f: Flight | undefined = context; f !== undefined; f = f.extra?.parent) {
    if (f === flight) return true;
  }
  return false;
}

/** A signal that fires when the flight is abandoned; only for work that takes one. */
function ownSignal(flight: Flight, fn: Work<unknown>): AbortSignal | undefined {
  return fn.length > 0 ? (extraOf(flight).controller = new AbortController()).signal : undefined;
}

function extraOf<T>(flight: Flight<T>): FlightExtra<T> {
  return (flight.extra ??= new FlightExtra<T>());
}

/**
 * The flights of a decorated method, `Class.method` (no ':' in it): what `@SingleFlight()` calls.
 * They are the group's flights (its stats, `forget('Class.method:<key>')`), apart from the keys of
 * direct calls. Internal: the package does not export it.
 */
export function methodFlights(group: Group, scope: string): MethodFlights {
  return methodFlightsOf(group, scope);
}

/**
 * Calls `listener` with the key of every later `group.forget(key)`, whether a flight ran or not:
 * a FlightCache linked to the group drops the key's value. Internal: the package does not export it.
 */
export function onForget(group: Group, listener: (key: string) => void): void {
  onForgetOf(group, listener);
}
