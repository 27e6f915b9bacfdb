// The public surface of nestjs-singleflight; nothing else is public.
export { Group } from './core/group.js';
export type {
  CallOptions,
  FlightResult,
  GroupOptions,
  GroupStats,
  Work,
} from './core/group.interfaces.js';
export { WriteGroup } from './core/write-group.js';
export type {
  RetryOptions,
  WriteCallOptions,
  WriteGroupOptions,
  WriteGroupStats,
} from './core/write-group.interfaces.js';
export {
  SingleflightAbortError,
  SingleflightArgumentError,
  SingleflightKeyError,
  SingleflightOptionsError,
  SingleflightReentryError,
  SingleflightThrownValueError,
  SingleflightTimeoutError,
} from './core/singleflight.errors.js';
export { serializeArgs } from './core/keys.js';
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
export { SingleflightModule } from './nest/singleflight.module.js';
export {
  SingleFlight,
  type KeyedMethodDecorator,
} from './nest/decorators/single-flight.decorator.js';
export {
  MergeWrites,
  type MergeWritesDecorator,
} from './nest/decorators/merge-writes.decorator.js';
export type {
  SingleflightCacheOptions,
  SingleflightModuleOptions,
} from './nest/interfaces/singleflight-module-options.interface.js';
export type {
  MergeWritesOptions,
  SingleFlightOptions,
} from './nest/interfaces/flight-options.interface.js';
export type { KeyContext } from './nest/decorators/key-context.js';
export {
  DistributedFlight,
  MISS_SENTINEL,
  type DistributedFlightLog,
  type DistributedFlightOptions,
  type DistributedFlightStats,
} from './redis/flight/distributed-flight.js';
export { RemoteFlightError, isRemoteError } from './redis/flight/remote-flight.error.js';
export type { RemoteErrorFields } from './redis/flight/remote-flight.error.js';
export type { RedisCoordinator, RedisScript } from './redis/coordinator/coordinator.interface.js';
export {
  SingleflightCoordinationError,
  type CoordinationFailure,
} from './redis/shared/coordination.error.js';
export {
  nodeRedisAdapter,
  type NodeRedisAdapterOptions,
  type NodeRedisClient,
} from './redis/coordinator/node-redis.adapter.js';
export {
  ioredisAdapter,
  type IoredisAdapterOptions,
  type IoredisClient,
} from './redis/coordinator/ioredis.adapter.js';
export { DistributedWriteGroup } from './redis/writes/distributed-write-group.js';
export type {
  DistributedWriteCallOptions,
  DistributedWriteGroupStats,
  DistributedWriteOptions,
  WriteLedger,
  WriteRun,
  WriteRunContext,
} from './redis/writes/distributed-write-group.interfaces.js';
export type {
  MetricsRegistry,
  SingleflightMetricsOptions,
} from './nest/interfaces/singleflight-metrics-options.interface.js';
export type { SingleflightRedisOptions } from './nest/interfaces/singleflight-redis-options.interface.js';
