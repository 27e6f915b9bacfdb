import type { FlightCache } from '../../cache/flight-cache.js';
import type { CachePolicy } from '../../cache/flight-cache.interfaces.js';
import { type Group, methodFlights } from '../../core/group.js';
import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import type { WriteGroup } from '../../core/write-group.js';
import type { ObservableGroup } from '../../rx/observable-group.js';
import type { FlightMetadata } from '../decorators/flight-metadata.js';
import type {
  MergeWritesOptions,
  SingleFlightOptions,
} from '../interfaces/flight-options.interface.js';
import type { SingleflightModuleOptions } from '../interfaces/singleflight-module-options.interface.js';
import * as messages from '../nest.messages.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import type { RedisCoordination } from '../redis-coordination.js';
import { FirstCall } from './first-call.js';
import { CachedWork, FleetWork } from './flight-work.js';
import { FleetWrites } from './fleet-writes.js';
import { LocalWrites } from './local-writes.js';
import { checkCaching, checkWrites } from './method-options.check.js';
import { CallKeys, type MethodStrategy } from './method-strategy.js';
import { ObservableFlight } from './observable-flight.js';
import { ObservedFlight } from './observed-flight.js';
import { oneInstance } from './one-instance.js';
import { CachedFlight, PromiseFlight } from './promise-flight.js';

/** What an app gives its decorated methods: its engines, module options and observer. */
export interface AppEngines {
  readonly group: Group;
  readonly writes: WriteGroup;
  readonly observables: ObservableGroup;
  readonly cache: FlightCache | null;
  readonly options: SingleflightModuleOptions;
  /** Metrics and debug logs; undefined when both are off, and then no call pays for them. */
  readonly observer: FlightObserver | undefined;
  readonly redis: RedisCoordination | null;
  /** Makes `strategy` the method's strategy in this app (a method whose first call decides). */
  replace(meta: FlightMetadata, strategy: MethodStrategy): void;
  /** Says a method whose return type was not annotated returned a plain value. */
  warnSync(meta: FlightMetadata): void;
}

/**
 * The strategy of a decorated method in an app: its options merged with the module's, checked for
 * what only the app can tell (caching off, Redis on, Observable methods), and made into the one
 * object its calls run through. Bad options throw a SingleflightOptionsError.
 */
export function chooseStrategy(meta: FlightMetadata, app: AppEngines): MethodStrategy {
  const own = meta.options;
  const keys = new CallKeys(
    meta,
    own.keyContext === false ? undefined : app.options.keyContext,
    oneInstance(meta),
    app.observer,
  );
  return meta.decorator === 'MergeWrites'
    ? mergeWrites(meta, own as MergeWritesOptions, keys, app)
    : singleFlight(meta, own as SingleFlightOptions, keys, app);
}

function mergeWrites(
  meta: FlightMetadata,
  own: MergeWritesOptions,
  keys: CallKeys,
  app: AppEngines,
): MethodStrategy {
  const where = meta.scope;
  if (meta.returns === 'observable') {
    throw new SingleflightOptionsError(messages.OBSERVABLE_WRITES(where));
  }
  const fleet = own.distributed === false ? undefined : app.redis?.writes;
  if (fleet !== undefined && own.merge !== undefined) {
    throw new SingleflightOptionsError(messages.DISTRIBUTED_MERGE(where));
  }
  checkWrites(where, own, fleet !== undefined);
  const version = own.version;
  // The method's version(...args) as the engines take it, of an argument list.
  const ofArgs = version && ((args: unknown[]) => version(...args));
  const withContext = own.context === true;
  if (fleet !== undefined) return new FleetWrites(keys, ofArgs, withContext, app.observer, fleet);
  const retry = own.retry ?? app.options.retry;
  return new LocalWrites(keys, ofArgs, withContext, app.observer, app.writes, own.merge, retry);
}

function singleFlight(
  meta: FlightMetadata,
  own: SingleFlightOptions,
  keys: CallKeys,
  app: AppEngines,
): MethodStrategy {
  const where = meta.scope;
  const defaults = app.options;
  const ttl = own.ttl ?? (meta.returns === 'observable' ? undefined : defaults.ttl);
  const caching = ttl !== undefined && ttl !== 0;
  if (caching && meta.returns === 'observable') {
    throw new SingleflightOptionsError(messages.OBSERVABLE_TTL(where));
  }
  const cache = caching ? app.cache : null;
  if (caching && cache === null) {
    throw new SingleflightOptionsError(messages.TTL_WITHOUT_CACHE(where));
  }
  if (own.replay !== undefined && meta.returns === 'promise') {
    throw new SingleflightOptionsError(messages.REPLAY_WITHOUT_OBSERVABLE(where));
  }
  const policy: CachePolicy | undefined = caching
    ? {
        ttl,
        refreshThreshold: own.refreshThreshold ?? defaults.refreshThreshold,
        shouldCache: own.shouldCache,
      }
    : undefined;
  checkCaching(where, own, policy);
  const replay = own.replay === undefined ? undefined : { replay: own.replay };
  const observable = () => new ObservableFlight(keys, app.observables, replay, app.observer);
  if (meta.returns === 'observable') return observable();

  const flights = methodFlights(app.group, meta.scope);
  const call = withoutUndefined({
    timeout: own.timeout ?? defaults.timeout,
    forgetAfter: own.forgetAfter ?? defaults.forgetAfter,
    shareErrors: own.shareErrors ?? defaults.shareErrors,
  });
  const observer = app.observer;
  const fleet = own.distributed === false ? undefined : app.redis?.flights;
  const fleetWork = fleet && new FleetWork(fleet, cache ?? undefined);
  const peek = cache === null ? undefined : cache.peekerOf(meta.scope);
  let promise: PromiseFlight;
  if (observer !== undefined) {
    const cachedWork = cache === null ? undefined : new CachedWork(cache, policy!, undefined);
    promise = new ObservedFlight(keys, flights, call, observer, cachedWork, fleetWork, peek);
  } else if (cache === null) {
    promise = new PromiseFlight(keys, flights, call, fleetWork);
  } else {
    const work = new CachedWork(cache, policy!, fleetWork);
    promise =
      peek === undefined
        ? new PromiseFlight(keys, flights, call, work)
        : new CachedFlight(keys, flights, call, work, peek);
  }
  if (meta.returns === 'promise') return promise;
  // What it returns is not known yet: its first call runs neither cached nor across instances.
  const plain =
    observer === undefined
      ? new PromiseFlight(keys, flights, call, undefined)
      : new ObservedFlight(keys, flights, call, observer, undefined, undefined, undefined);
  return new FirstCall(keys, plain, {
    promise,
    observable: observable(),
    replace: (strategy) => app.replace(meta, strategy),
    warnSync: () => app.warnSync(meta),
  });
}

function withoutUndefined<T extends object>(options: T): T | undefined {
  const entries = Object.entries(options).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as T);
}
