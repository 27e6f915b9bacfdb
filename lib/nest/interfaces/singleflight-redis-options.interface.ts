import type { RedisCoordinator } from '../../redis/coordinator/coordinator.interface.js';
import type { DistributedFlightOptions } from '../../redis/flight/distributed-flight.js';
import type { DistributedWriteOptions } from '../../redis/writes/distributed-write-group.interfaces.js';
import type { IoredisClient } from '../../redis/coordinator/ioredis.adapter.js';
import type { NodeRedisClient } from '../../redis/coordinator/node-redis.adapter.js';

/**
 * Coordination of several instances through Redis: `@SingleFlight()` methods run once across the
 * fleet, `@MergeWrites()` methods push one key at a time across the fleet. Redis trouble never fails
 * a call: the instance then runs on its own until Redis answers again. It does not share the
 * cache: give `cache.stores` a Redis store for that.
 *
 * ```ts
 * SingleflightModule.forRoot({ redis: { url: process.env.REDIS_URL, namespace: 'orders-service' } });
 * ```
 * @publicApi
 */
export interface SingleflightRedisOptions {
  /**
   * A name unique to this app, the same on each of its instances (e.g. the service's name): the
   * prefix of every Redis key and channel of its flights (`<namespace>:sf`) and writes
   * (`<namespace>:mw`). Required (unless `flights` and `writes` each name their own), so that two
   * apps on one Redis never share flights or results by accident: without it the module fails
   * at start-up with a SingleflightOptionsError.
   *
   * ```ts
   * redis: { client, namespace: 'orders-service' }
   * ```
   */
  namespace?: string;
  /**
   * Authenticates what is shared through Redis (HMAC-SHA256 over each envelope and its key): a
   * flight result forged or altered by anyone who can write to Redis without the secret is
   * ignored, and the caller runs the work itself; `@MergeWrites()` arguments forged or altered
   * there are never pushed. The same on every instance; at least 16 characters. See "What Redis
   * is trusted with" in the README. Passed to `flights` and `writes` (their own `secret` wins).
   * @default none (results are trusted as Redis holds them)
   *
   * ```ts
   * redis: { client, namespace: 'orders-service', secret: process.env.SINGLEFLIGHT_SECRET }
   * ```
   */
  secret?: string;
  /**
   * A Redis URL (`redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS): the
   * module makes its own client with it (node-redis when `redis` is installed, else ioredis;
   * with neither, the app fails at start-up), with the offline queue off, connects it before the
   * app takes calls (Redis down: the app starts, and calls run in-process until it answers),
   * and closes it when the app shuts down. Not with `client` or `coordinator`.
   * @default none (give `url`, `client` or `coordinator`)
   *
   * ```ts
   * redis: { url: 'redis://redis.internal:6379', namespace: 'orders-service' }
   * ```
   */
  url?: string;
  /**
   * A connected node-redis (`redis`, `@redis/client`) or ioredis client; the matching adapter is
   * made for it. Create it with `disableOfflineQueue: true` (node-redis) or
   * `enableOfflineQueue: false` (ioredis), so commands fail at once while Redis is away. It stays
   * yours: close it in `onApplicationShutdown` (Nest runs it after the module has stopped using
   * it), or give `url` and let the module own the client.
   */
  client?: NodeRedisClient | IoredisClient;
  /**
   * Or an adapter: `nodeRedisAdapter(client)`, `ioredisAdapter(client)`, or your own. The module
   * does not close a coordinator you pass (it closes the one it made for `client`).
   */
  coordinator?: RedisCoordinator;
  /**
   * How long (ms) one Redis command may take (with `url` or `client`; an adapter you pass has
   * its own).
   * @default 250
   */
  opTimeoutMs?: number;
  /**
   * Options of the distributed singleflight; `false` keeps `@SingleFlight()` in-process. Its
   * codecs are the module's `codecs`.
   * @default {} (on, with DistributedFlight's defaults)
   */
  flights?: Omit<DistributedFlightOptions, 'codecs'> | false;
  /**
   * Options of the distributed MergeWrites; `false` keeps `@MergeWrites()` in-process. The
   * arguments of a distributed `@MergeWrites()` method travel through Redis in the module's
   * codec (see `codecs`), and it cannot take a `merge` function (the newest call's arguments win).
   * @default {} (on, with DistributedWriteGroup's defaults)
   */
  writes?: Omit<DistributedWriteOptions, 'codecs'> | false;
}
