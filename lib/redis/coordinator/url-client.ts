import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import * as messages from '../redis.messages.js';
import type { IoredisClient } from './ioredis.adapter.js';
import type { NodeRedisClient } from './node-redis.adapter.js';

/**
 * The Redis client SingleflightModule makes from `redis.url`: its own to connect and to close.
 * The adapter made for it reports its connection; these errors are only kept from being thrown.
 */
export interface UrlClient {
  readonly client: NodeRedisClient | IoredisClient;
  /** `node-redis` or `ioredis`, for the start-up line. */
  readonly library: string;
  /**
   * Resolves once connected, or once the first attempt failed: the app then starts, its calls run
   * in-process, and the client keeps trying in the background.
   */
  connect(): Promise<void>;
  /** Closes at once (the engines have stopped using it). */
  close(): void;
}

const ignore = () => undefined;

/**
 * Makes a client for `url` with node-redis when it is installed, else with ioredis (both are
 * optional peers), with the offline queue off, so commands fail at once while Redis is away.
 */
export async function urlClient(url: string, where: string): Promise<UrlClient> {
  const causes: unknown[] = [];
  const load = <T>(library: Promise<T>) =>
    library.catch((error: unknown) => void causes.push(error));
  const nodeRedisLibrary = await load(import('redis'));
  if (nodeRedisLibrary) {
    return nodeRedis(nodeRedisLibrary.createClient({ url, disableOfflineQueue: true }));
  }
  const ioredisLibrary = await load(import('ioredis'));
  if (ioredisLibrary) {
    return ioredis(new ioredisLibrary.Redis(url, { enableOfflineQueue: false, lazyConnect: true }));
  }
  throw new SingleflightOptionsError(messages.REDIS_URL_NEEDS_CLIENT(where), {
    cause: new AggregateError(causes, 'neither redis nor ioredis could be loaded'),
  });
}

/**
 * node-redis, whose connect() resolves once connected and, while Redis is away, retries without
 * settling: its first 'error' says the first attempt failed.
 */
function nodeRedis(client: NodeRedisClient): UrlClient {
  client.on('error', ignore); // node-redis throws an 'error' that has no listener
  return {
    client,
    library: 'node-redis',
    connect: () =>
      new Promise<void>((done) => {
        const settle = () => {
          client.off('error', settle);
          done();
        };
        client.on('error', settle);
        client.connect().then(settle, settle);
      }),
    close: () => {
      // destroy(), not close(): close() waits for pending replies, forever if Redis hangs.
      if (client.isOpen) client.destroy();
    },
  };
}

/** ioredis, whose connect() rejects when the first attempt fails (it then retries by itself). */
function ioredis(client: IoredisClient): UrlClient {
  client.on('error', ignore); // ioredis prints errors that have no listener
  return {
    client,
    library: 'ioredis',
    connect: () => client.connect().catch(ignore),
    close: () => client.disconnect(),
  };
}
