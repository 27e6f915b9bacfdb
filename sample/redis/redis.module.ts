import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createClient } from 'redis';
import { config } from '../config.js';

export type RedisClient = ReturnType<typeof createClient>;

/** The sample's Redis client, or null when REDIS_URL is not set. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/**
 * With REDIS_URL, one node-redis client serves both the token cache (through @keyv/redis) and the
 * coordination of several instances of the sample.
 */
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      useFactory: async (): Promise<RedisClient | null> => {
        if (config.redisUrl === undefined) return null;
        // Commands fail at once while Redis is away, instead of queueing: the calls then run here.
        const client = createClient({ url: config.redisUrl, disableOfflineQueue: true });
        client.on('error', () => undefined); // the library logs coordination trouble once
        await client.connect();
        return client;
      },
    },
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient | null) {}

  /**
   * Nest runs `beforeApplicationShutdown` in every module before any `onApplicationShutdown`:
   * SingleflightModule stops using the client in the first, so it is closed here, in the second.
   */
  onApplicationShutdown(): void {
    this.client?.destroy();
  }
}
