import type { CreateCacheOptions } from 'cache-manager';
import type { RetryOptions } from '../../core/write-group.interfaces.js';
import type { TypeCodec } from '../../cache/type-codec.js';
import type { KeyContext } from '../decorators/key-context.js';
import type { SingleflightMetricsOptions } from './singleflight-metrics-options.interface.js';
import type { SingleflightRedisOptions } from './singleflight-redis-options.interface.js';

/**
 * Where cached flights keep their values.
 * @publicApi
 */
export interface SingleflightCacheOptions {
  /**
   * Keyv stores (at least one) for a cache the module creates, e.g.
   * `[new Keyv({ store: new KeyvRedis(url) })]` to share values between instances. Without stores
   * the app's `CACHE_MANAGER` (`@nestjs/cache-manager`) is used when there is one, in any module
   * of the app (a `CacheModule.register()` need not be global), else an in-memory cache.
   * @default undefined (`CACHE_MANAGER`, else in-memory)
   */
  stores?: CreateCacheOptions['stores'];
  /**
   * How long (ms, 1 to 2^31 - 1) a store read, write or delete may take before the call goes on
   * without it.
   * @default 1000
   */
  timeout?: number;
}

/**
 * Options of `SingleflightModule.forRoot()`. The flight options are defaults for every decorator,
 * which each method's own options override.
 *
 * ```ts
 * SingleflightModule.forRoot({ timeout: 5_000, ttl: 30_000, retry: { attempts: 3, backoffMs: 100 } });
 * ```
 * @publicApi
 */
export interface SingleflightModuleOptions {
  /**
   * Default per-caller timeout (ms) of `@SingleFlight()` methods that return a Promise: a caller
   * that waits longer rejects with a SingleflightTimeoutError; the flight goes on.
   * @default none
   */
  timeout?: number;
  /** Default max age (ms) of a flight that still takes joiners. @default none */
  forgetAfter?: number;
  /** Whether joiners of a failed flight share its error. @default true */
  shareErrors?: boolean;
  /**
   * Default ttl (ms) for caching the results of `@SingleFlight()` methods that return a Promise
   * (Observable methods are never cached). Needs caching on (not `cache: false`).
   * @default none (no caching)
   */
  ttl?: number;
  /** Default refresh-ahead threshold (ms) of cached flights. @default none */
  refreshThreshold?: number;
  /**
   * Default `replay` of `@SingleFlight()` methods that return an Observable, and of the app's
   * ObservableGroup: how many earlier values a subscriber that joins a running source gets
   * (the newest), before every later value. `0`: later values only; `Infinity`: all (only for
   * sources that complete: a stream's would grow without bound).
   *
   * ```ts
   * SingleflightModule.forRoot({ replay: 0 }); // live feeds: joiners get what comes next
   * ```
   * @default 1 (the latest value)
   */
  replay?: number;
  /**
   * Detect a `@SingleFlight()` flight or a `@MergeWrites()` run that calls its own key after an
   * `await` (it would wait for itself forever): the inner call then rejects with a
   * SingleflightReentryError. A call before the work's first `await` is always detected, for free.
   * Applies to the app's Group and WriteGroup, and is the default of `redis.writes`'
   * `detectAsyncReentry`. Uses AsyncLocalStorage, which slows every promise of the process on
   * Node < 24.
   * @default false
   */
  detectAsyncReentry?: boolean;
  /**
   * Default retry of in-process `@MergeWrites()` runs. Distributed ones (with `redis`) use
   * `redis.writes.retry` instead.
   * @default none
   */
  retry?: RetryOptions;
  /**
   * Where cached flights keep values, or `false` to turn caching off (the app's FlightCache is
   * then null, and a `ttl` fails the boot).
   * @default the app's `CACHE_MANAGER` when there is one, else an in-memory cache
   */
  cache?: SingleflightCacheOptions | false;
  /**
   * Prometheus metrics of every decorated method (needs `prom-client`, loaded only when this is
   * on): `true` for the defaults, or options. Off, the calls pay nothing for it.
   * @default false
   */
  metrics?: boolean | SingleflightMetricsOptions;
  /**
   * Log a debug line (Nest `Logger`, context `Singleflight`) when a flight starts, a call joins
   * one, and a flight settles (with its duration), and for `@MergeWrites()` runs. Off, the calls
   * pay nothing for it. The lines show when the app's logger has the `debug` level on.
   * @default false
   */
  debug?: boolean;
  /**
   * What the current call belongs to, e.g. its tenant, made part of every key the module builds:
   * flights, cached values, Redis flights and `@MergeWrites()` runs. It is called at each call of
   * a decorated method, in the caller's async context, so it can read an `AsyncLocalStorage` or
   * nestjs-cls. `undefined` means "no context": such calls share with each other (as without
   * `keyContext`), so throw where a context is required. A throw or a value that is neither a
   * string nor undefined fails the call with a SingleflightKeyError. A method opts out with
   * `keyContext: false`. The whole key becomes `Class.method:@<context>:<key>`, or
   * `Class.method::<key>` without a context (see README, "Context keys").
   *
   * ```ts
   * SingleflightModule.forRootAsync({
   *   inject: [ClsService],
   *   useFactory: (cls: ClsService) => ({ keyContext: () => cls.get<string>('tenantId') }),
   * });
   * ```
   * @default undefined (keys have no context)
   */
  keyContext?: KeyContext;
  /**
   * How instances of your classes are kept where a value leaves the process: a cache store that
   * serializes (Redis), the results of flights shared through Redis, and the arguments of
   * distributed `@MergeWrites()` methods. Plain data, Dates, Maps, Sets, BigInts, Buffers, typed
   * arrays and `undefined` keep their type without one; a value that holds an instance of a class
   * without a codec is not cached there nor shared (logged once), and the call still gets it; such
   * an argument of a distributed `@MergeWrites()` method fails the call (SingleflightArgumentError).
   * Give every instance of the app the same codecs.
   *
   * ```ts
   * SingleflightModule.forRoot({
   *   codecs: [{ type: Money, encode: (m) => [m.amount, m.currency], decode: ([a, c]) => new Money(a, c) }],
   * });
   * ```
   * @default [] (no class instances)
   */
  codecs?: readonly TypeCodec[];
  /**
   * Coordinate several instances through Redis: a `client` (node-redis or ioredis) or a
   * `coordinator`. Methods opt out with `distributed: false`.
   * @default undefined (each instance on its own)
   */
  redis?: SingleflightRedisOptions;
}
