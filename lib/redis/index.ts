// nestjs-singleflight/redis: the engines that coordinate many processes through Redis, and the
// adapters for node-redis and ioredis. Usable without Nest; the errors of the engines' own
// options and arguments are in nestjs-singleflight/core.
export { DistributedFlight, MISS_SENTINEL } from './flight/distributed-flight.js';
export type {
  DistributedFlightLog,
  DistributedFlightOptions,
  DistributedFlightStats,
} from './flight/distributed-flight.interfaces.js';
export type { TypeCodec } from '../cache/type-codec.js';
export {
  RemoteFlightError,
  isRemoteError,
  type RemoteErrorFields,
} from './flight/remote-flight.error.js';
export { DistributedWriteGroup } from './writes/distributed-write-group.js';
export type {
  DistributedWriteCallOptions,
  DistributedWriteGroupStats,
  DistributedWriteOptions,
  WriteLedger,
  WriteRun,
  WriteRunContext,
} from './writes/distributed-write-group.interfaces.js';
export type { RedisCoordinator, RedisScript } from './coordinator/coordinator.interface.js';
export {
  nodeRedisAdapter,
  type NodeRedisAdapterOptions,
  type NodeRedisClient,
} from './coordinator/node-redis.adapter.js';
export {
  ioredisAdapter,
  type IoredisAdapterOptions,
  type IoredisClient,
} from './coordinator/ioredis.adapter.js';
export {
  SingleflightCoordinationError,
  type CoordinationFailure,
} from './shared/coordination.error.js';
