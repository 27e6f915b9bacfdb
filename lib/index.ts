// nestjs-singleflight: what a Nest app uses. The engines for any Node program are in
// nestjs-singleflight/core, the Redis engines and adapters in nestjs-singleflight/redis. Every
// entry re-exports the same modules, so a class is one class whichever entry it came from.
export { SingleflightModule } from './nest/singleflight.module.js';
export type {
  SingleflightCacheOptions,
  SingleflightModuleOptions,
} from './nest/interfaces/singleflight-module-options.interface.js';
export type { SingleflightRedisOptions } from './nest/interfaces/singleflight-redis-options.interface.js';
export type {
  MetricsRegistry,
  SingleflightMetricsOptions,
} from './nest/interfaces/singleflight-metrics-options.interface.js';
export {
  SingleFlight,
  type KeyedMethodDecorator,
} from './nest/decorators/single-flight.decorator.js';
export {
  MergeWrites,
  type MergeWritesDecorator,
} from './nest/decorators/merge-writes.decorator.js';
export type {
  MergeWritesOptions,
  SingleFlightOptions,
} from './nest/interfaces/flight-options.interface.js';
export type { KeyContext } from './nest/decorators/key-context.js';
export type { WriteRunContext } from './redis/index.js';

// The engines the module provides, to inject, and Go's DoChan over a Group as an Observable.
export { Group, WriteGroup } from './core/index.js';
export { doChan$ } from './rx/do-chan.js';
export {
  ObservableGroup,
  type ObservableGroupOptions,
  type ObservableGroupStats,
} from './rx/observable-group.js';
export { FlightCache } from './cache/flight-cache.js';
export type {
  CacheErrorLogger,
  CachePolicy,
  FlightCacheOptions,
  FlightCacheStats,
} from './cache/flight-cache.interfaces.js';
export type { TypeCodec } from './cache/type-codec.js';

// Every error a decorated method or the module's start-up can give.
export {
  SingleflightAbortError,
  SingleflightArgumentError,
  SingleflightKeyError,
  SingleflightOptionsError,
  SingleflightReentryError,
  SingleflightThrownValueError,
  SingleflightTimeoutError,
} from './core/index.js';
export { RemoteFlightError, SingleflightCoordinationError, isRemoteError } from './redis/index.js';
