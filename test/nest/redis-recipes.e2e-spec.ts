import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createKeyv } from '@keyv/redis';
import { Injectable, Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createClient } from 'redis';
import { SingleFlight, SingleflightModule } from '../../lib/index.js';
import { connectionIds, stillOpen } from '../support/redis-connections.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

// The README's Redis recipes ("Several instances (Redis)"), as a user writes them: each must
// compile, share values and flights, and leave no connection open once the app has closed.

let runs = 0;

@Injectable()
class Catalog {
  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async product(id: string): Promise<{ id: string; run: number }> {
    return { id, run: ++runs };
  }
}

/** The recipe with `url`: the module owns its client, the app closes its store. */
function urlRecipe(url: string): Type {
  const store = createKeyv(url, { namespace: 'orders-service' });
  @Module({
    imports: [
      SingleflightModule.forRoot({
        cache: { stores: [store] },
        redis: { url, namespace: 'orders-service' },
      }),
    ],
    providers: [Catalog],
  })
  class AppModule implements OnApplicationShutdown {
    async onApplicationShutdown(): Promise<void> {
      await store.disconnect();
    }
  }
  return AppModule;
}

/** The recipe with a client of the app's own, which the app closes. */
function clientRecipe(url: string): Type {
  const store = createKeyv(url, { namespace: 'orders-service' });
  const client = createClient({ url, disableOfflineQueue: true });
  @Module({
    imports: [
      SingleflightModule.forRootAsync({
        useFactory: async () => {
          await client.connect();
          return {
            cache: { stores: [store] },
            redis: { client, namespace: 'orders-service' },
          };
        },
      }),
    ],
    providers: [Catalog],
  })
  class AppModule implements OnApplicationShutdown {
    async onApplicationShutdown(): Promise<void> {
      await Promise.all([store.disconnect(), client.close()]);
    }
  }
  return AppModule;
}

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe.each([
  ['redis: { url }', urlRecipe, 'sku-1'],
  ['redis: { client }', clientRecipe, 'sku-2'],
])("the README's recipe with %s", (_, recipe, sku) => {
  it('shares a value between two apps, and leaves no connection open after close', async () => {
    runs = 0;
    const before = await connectionIds(server);
    const apps = [];
    for (let i = 0; i < 2; i++) {
      const moduleRef = await Test.createTestingModule({ imports: [recipe(server.url)] }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      apps.push(app);
    }
    let opened: string[];
    try {
      const first = await apps[0]!.get(Catalog).product(sku);
      expect(await apps[1]!.get(Catalog).product(sku)).toEqual(first);
      expect(runs).toBe(1);
      opened = [...(await connectionIds(server))].filter((id) => !before.has(id));
      expect(opened.length).toBeGreaterThan(0);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
    expect(await stillOpen(server, opened)).toEqual([]);
  });
});
