import type { RedisCoordinator } from '../../distributed/coordinator.interface.js';
import type { DistributedFlightOptions } from '../../distributed/distributed-flight.js';
import type { DistributedWriteOptions } from '../../distributed/distributed-write-group.interfaces.js';
import type { IoredisClient } from '../../distributed/ioredis.adapter.js';
import type { NodeRedisClient } from '../../distributed/node-redis.adapter.js';

/**
 * Coordination of several instances through Redis: `@SingleFlight()` methods run once across the
 * fleet, `@MergeWrites()` methods push one key at a time across the fleet. Redis trouble never fails
 * a call: the instance then runs on its own until Redis answers again.
 * @publicApi
 */
export interface SingleflightRedisOptions {
  /**
   * A connected node-redis (`redis`, `@redis/client`) or ioredis client; the matching adapter is
   * made for it. Create it with `disableOfflineQueue: true` (node-redis) or
   * `enableOfflineQueue: false` (ioredis), so commands fail at once while Redis is away.
   */
  client?: NodeRedisClient | IoredisClient;
  /** Or an adapter: `nodeRedisAdapter(client)`, `ioredisAdapter(client)`, or your own. */
  coordinator?: RedisCoordinator;
  /**
   * How long one Redis command may take (with `client`).
   * @default 250
   */
  opTimeoutMs?: number;
  /** Options of the distributed singleflight; `false` keeps `@SingleFlight()` in-process. */
  flights?: DistributedFlightOptions | false;
  /**
   * Options of the distributed MergeWrites; `false` keeps `@MergeWrites()` in-process. The
   * arguments of a distributed `@MergeWrites()` method travel through Redis, so they must be
   * JSON-safe, and it cannot take a `merge` function (the newest call's arguments win).
   */
  writes?: DistributedWriteOptions | false;
}
