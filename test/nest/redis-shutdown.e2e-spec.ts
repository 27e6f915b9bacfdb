import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { MergeWrites, SingleFlight, SingleflightModule } from '../../lib/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';

type Hook = 'onModuleDestroy' | 'beforeApplicationShutdown' | 'onApplicationShutdown';
const CLIENT = Symbol('client');

@Injectable()
class Orders {
  @SingleFlight((id: string) => id)
  async order(id: string): Promise<string> {
    return id;
  }

  @MergeWrites((id: string) => id)
  async push(id: string): Promise<string> {
    return id;
  }
}

interface Client {
  close(): void;
}

/** An app whose own module makes the Redis client, and closes it in `hook`. */
async function boot(
  hook: Hook,
  make: () => Promise<{ redis: object; close(): void }>,
): Promise<{ app: INestApplication; warnings: string[] }> {
  @Module({
    providers: [{ provide: CLIENT, useFactory: make }],
    exports: [CLIENT],
  })
  class RedisModule {
    constructor(@Inject(CLIENT) private readonly client: Client) {}
    [hook](): void {
      this.client.close();
    }
  }
  const moduleRef = await Test.createTestingModule({
    imports: [
      RedisModule,
      SingleflightModule.forRootAsync({
        imports: [RedisModule],
        inject: [CLIENT],
        useFactory: ({ redis }: { redis: never }) => ({
          redis: { client: redis, namespace: 'shutdown' },
        }),
      }),
    ],
    providers: [Orders],
  }).compile();
  const warnings: string[] = [];
  const app = moduleRef.createNestApplication({
    logger: {
      log: () => undefined,
      error: (message: string) => warnings.push(`error: ${message}`),
      warn: (message: string) => warnings.push(message),
    },
  });
  await app.init();
  // Flights and writes have gone through Redis: both engines are subscribed.
  await app.get(Orders).order('o-1');
  await app.get(Orders).push('o-1');
  return { app, warnings };
}

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

const nodeRedis = async (url = server.url) => {
  const client = createClient({ url, disableOfflineQueue: true });
  client.on('error', () => undefined);
  await client.connect();
  return { redis: client, close: () => client.destroy() };
};
const ioredis = async () => {
  const client = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
  client.on('error', () => undefined);
  await client.connect();
  return { redis: client, close: () => client.disconnect() };
};

describe('an app that closes its own Redis client when it shuts down', () => {
  it.each([
    ['node-redis', 'onModuleDestroy', nodeRedis],
    ['node-redis', 'beforeApplicationShutdown', nodeRedis],
    ['node-redis', 'onApplicationShutdown', nodeRedis],
    ['ioredis', 'onModuleDestroy', ioredis],
    ['ioredis', 'onApplicationShutdown', ioredis],
  ] as const)('%s, in %s: no warning', async (_, hook, make) => {
    const { app, warnings } = await boot(hook, () => make());
    await app.close();
    expect(warnings).toEqual([]);
  });

  it('still warns when Redis goes away while the app runs', async () => {
    const own = await startRedis();
    const { app, warnings } = await boot('onApplicationShutdown', () => nodeRedis(own.url));
    try {
      await own.kill();
      await until(() => warnings.some((w) => w.includes('Redis coordination')));
    } finally {
      await app.close();
      await own.stop();
    }
  });
});
