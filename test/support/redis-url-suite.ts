import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SingleFlight, SingleflightModule } from '../../lib/index.js';
import type { RedisCoordination } from '../../lib/nest/redis-coordination.js';
import { REDIS_COORDINATION } from '../../lib/nest/singleflight.constants.js';
import { type Deferred, deferred } from './deferred.js';
import { connectionIds, stillOpen } from './redis-connections.js';
import { type RedisServer, startRedis } from './redis-server.js';
import { until } from './until.js';

const BACKEND = Symbol('backend');

interface Backend {
  runs: number;
  started: Deferred<void>;
  gate: Deferred<void>;
}

@Injectable()
class Prices {
  constructor(@Inject(BACKEND) private readonly backend: Backend) {}

  @SingleFlight((sku: string) => sku)
  async price(sku: string): Promise<string> {
    this.backend.runs++;
    this.backend.started.resolve();
    await this.backend.gate.promise;
    return `${sku}:${this.backend.runs}`;
  }
}

/**
 * `forRoot({ redis: { url } })` over a real redis-server, with the client library the module
 * finds (`library`: what the start-up line must name).
 */
export function describeRedisUrl(library: 'node-redis' | 'ioredis'): void {
  let server: RedisServer;
  const apps: INestApplication[] = [];
  const backend: Backend = { runs: 0, started: deferred(), gate: deferred() };
  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(async () => {
    backend.gate.resolve();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    Object.assign(backend, { runs: 0, started: deferred(), gate: deferred() });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function boot(url: string): Promise<{ app: INestApplication; lines: string[] }> {
    const lines: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ redis: { url, namespace: 'url-app' } })],
      providers: [Prices, { provide: BACKEND, useValue: backend }],
    }).compile();
    const app = moduleRef.createNestApplication({
      logger: {
        log: (message: string, context?: string) => {
          if (context === 'Singleflight') lines.push(message);
        },
        warn: (message: string, context?: string) => {
          if (context === 'Singleflight') lines.push(`warn: ${message}`);
        },
        error: () => undefined,
      },
    });
    apps.push(app);
    await app.init();
    return { app, lines };
  }

  describe(`redis: { url } with ${library}`, () => {
    it('makes its own client: two apps share one flight through it', async () => {
      const [a, b] = [await boot(server.url), await boot(server.url)];
      expect(a.lines).toEqual([
        expect.stringContaining(
          `Redis: flights under "url-app:sf", writes under "url-app:mw" (its own ${library} client, from redis.url).`,
        ),
      ]);
      const first = a.app.get(Prices).price('eu');
      await backend.started.promise;
      const second = b.app.get(Prices).price('eu');
      const followers = b.app.get<RedisCoordination>(REDIS_COORDINATION).flights!;
      await until(() => followers.stats().follower === 1);
      backend.gate.resolve();
      expect(await Promise.all([first, second])).toEqual(['eu:1', 'eu:1']);
      expect(backend.runs).toBe(1);
    });

    it('closes its client when the app closes: the server sees no connection of it', async () => {
      const before = await connectionIds(server);
      const { app } = await boot(server.url);
      backend.gate.resolve();
      await app.get(Prices).price('us');
      // The client and the subscriber of the flights' channel.
      const mine = [...(await connectionIds(server))].filter((id) => !before.has(id));
      expect(mine.length).toBeGreaterThanOrEqual(2);
      await app.close();
      expect(await stillOpen(server, mine)).toEqual([]);
    });

    it('starts while Redis is down, and runs calls in-process', async () => {
      const down = await startRedis();
      const url = down.url;
      await down.stop();
      const { app } = await boot(url);
      backend.gate.resolve();
      await expect(app.get(Prices).price('asia')).resolves.toBe('asia:1');
    });
  });
}
