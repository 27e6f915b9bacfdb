import type { RetryOptions } from '../../core/write-group.interfaces.js';

/** Options that `@SingleFlight()` and `@MergeWrites()` share: what a method's keys are made of. */
export interface FlightKeyOptions {
  /**
   * The part of this method's keys before ':', in place of `Class.method`. Needed when two
   * classes of one app have the same name, or the method is named by a symbol (both fail at
   * start-up without it). Any non-empty string without ':'; it must be unique in the app.
   * `FlightCache.invalidate('prices.get:42')` then reaches the method's cached values.
   *
   * ```ts
   * @SingleFlight({ scope: 'prices.get' })
   * ```
   * @default `Class.method` ('%', ':' and '.' in either name written as `%25`, `%3A`, `%2E`)
   */
  scope?: string;
  /**
   * On a request-scoped (or durable) provider or controller, let the default key share a flight
   * between requests; on a transient provider, between the instances of the classes that inject
   * it. Say so only when the result depends on the arguments alone, never on what the instance
   * holds (the request's user, tenant, headers; a consumer's settings). Without it, the default
   * key on such a provider fails at start-up; an explicit key is your statement that it holds all
   * the result depends on (a key function is called with `this`, so it can read the request). No
   * effect on a provider with one instance.
   *
   * ```ts
   * @SingleFlight({ shareAcrossRequests: true }) // the same rates for every user
   * async rates(currency: string): Promise<Rates> {}
   * ```
   * @default false
   */
  shareAcrossRequests?: boolean;
}

/**
 * Options of `@SingleFlight()`; each overrides the module's default for this method. A method that
 * returns an Observable takes none of `timeout`, `forgetAfter`, `shareErrors` or `distributed` into
 * account, and it is never cached: a `ttl` on it fails at start-up (or, when its return type is
 * not annotated, is ignored). `replay` applies to Observable methods only, in the same way.
 *
 * ```ts
 * @SingleFlight((id: string) => id, { ttl: 60_000, shouldCache: (user) => user !== null })
 * ```
 * @publicApi
 */
export interface SingleFlightOptions<T = unknown> extends FlightKeyOptions {
  /**
   * Per-caller timeout (ms): that caller rejects with SingleflightTimeoutError; the flight goes on.
   * @default the module's `timeout` (none)
   */
  timeout?: number;
  /**
   * A flight older than this (ms) takes no more joiners.
   * @default the module's `forgetAfter` (none)
   */
  forgetAfter?: number;
  /**
   * Whether joiners of a failed flight share its error.
   * @default the module's `shareErrors` (true)
   */
  shareErrors?: boolean;
  /**
   * Cache a successful result for this long (ms), or a function of the value; 0 turns caching off.
   * Annotate a function's parameter: it is checked against the method's value (what its Promise
   * resolves to), `ttl: (token: Token) => token.expiresInMs`; unannotated, it is `unknown`.
   * @default the module's `ttl` (none: no caching)
   */
  ttl?: number | ((value: T) => number);
  /**
   * Refresh-ahead: answer the cached value and refresh it when less than this (ms) is left. Must
   * be below `ttl`; on a method that is not cached it fails at start-up. A refresh that has not
   * settled within this many ms is given up (logged), and its value is not stored.
   * @default the module's `refreshThreshold` (none)
   */
  refreshThreshold?: number;
  /**
   * Whether a value is cached; on a method that is not cached it fails at start-up. Its parameter
   * is checked like `ttl`'s.
   * @default every value but undefined
   */
  shouldCache?: (value: T) => boolean;
  /**
   * For a method that returns an Observable: how many of the values emitted before a subscriber
   * joined it gets (the newest), before every later value; `Infinity` for all of them (only for an
   * Observable that completes). A method that returns a Promise fails at start-up with it.
   *
   * ```ts
   * @SingleFlight((job: string) => job, { replay: Infinity }) // every step, for a job that ends
   * steps(job: string): Observable<Step> {}
   * ```
   * @default the module's `replay` (1: the latest value)
   */
  replay?: number;
  /**
   * With `forRoot({ redis })`: share the flight with the other instances. `false` keeps this
   * method's flights in-process. @default true
   */
  distributed?: boolean;
  /**
   * `false`: this method's keys leave out the module's `keyContext`, so calls of every context
   * share its flights and cached values. Only for data that is the same for every context (e.g.
   * exchange rates in a multi-tenant app).
   * @default true (the module's `keyContext` applies)
   */
  keyContext?: boolean;
}

/**
 * Options of `@MergeWrites()`.
 *
 * ```ts
 * @MergeWrites((id: string) => id, { retry: { attempts: 3, backoffMs: 100 } })
 * ```
 * @publicApi
 */
export interface MergeWritesOptions<A extends unknown[] = unknown[]> extends FlightKeyOptions {
  /**
   * Fold the arguments of the calls that wait for the same run. Annotated with a tuple of the
   * method's parameters, it is checked against them; unannotated, it takes `unknown[]`.
   *
   * ```ts
   * @MergeWrites((id: string) => id, {
   *   merge: (pending: [string, Item[]], next: [string, Item[]]) => [next[0], [...pending[1], ...next[1]]],
   * })
   * async push(id: string, items: Item[]): Promise<void> {}
   * ```
   * @default the newest call's
   */
  merge?: (pending: A, next: A) => A;
  /**
   * The version of the state a call's arguments carry (a row version, an event sequence): a finite
   * number that grows with the state. With it, the arguments with the highest version win instead
   * of the call that arrives last: across instances (two events sent to two instances a few ms
   * apart can reach Redis in the other order) and among the calls that wait for one run in this
   * process. Not with `merge`. A call whose `version` throws or is not a finite number rejects.
   *
   * ```ts
   * @MergeWrites((id: string) => id, { version: (id: string, state: State) => state.version })
   * ```
   * @default undefined (the call that arrives last wins)
   */
  version?: (...args: A) => number;
  /**
   * Try a failed run again. A distributed method (with `forRoot({ redis })`) retries with
   * `redis.writes.retry`, and its own `retry` fails at start-up (or set `distributed: false`).
   * @default the module's `retry`, else none
   */
  retry?: RetryOptions;
  /**
   * With `forRoot({ redis })`: one push of a key at a time across the instances, with the newest
   * call's arguments (carried in the module's codec, see `codecs`) wherever it runs. `false` keeps this method's writes in-process.
   * @default true
   */
  distributed?: boolean;
  /**
   * Pass the run's `WriteRunContext` (`{ key, fence, signal }`) to the method after its own
   * arguments. `fence` grows with every run of the key across the instances, so a downstream can
   * refuse a late write (`... WHERE fence < $fence`); `signal` aborts when this instance lost the
   * key's lease. Without Redis, `fence` is 0. Callers never pass it.
   * @default false
   */
  context?: boolean;
  /**
   * `false`: this method's keys leave out the module's `keyContext`, so calls of every context
   * merge into the same runs. Only for writes that are the same for every context.
   * @default true (the module's `keyContext` applies)
   */
  keyContext?: boolean;
}
