import { isProxy } from 'node:util/types';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Injectable, type INestApplication, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Cache, createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import {
  FlightCache,
  SingleFlight,
  SingleflightModule,
  type SingleflightModuleOptions,
} from '../../lib/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

@Injectable()
class Prices {
  runs = 0;

  @SingleFlight((sku: string) => sku, { ttl: 60_000 })
  async price(sku: string): Promise<{ sku: string; run: number }> {
    return { sku, run: ++this.runs };
  }
}

interface Logged {
  level: 'log' | 'warn';
  message: string;
}

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** Boots an app whose logger records what the module logs (context `Singleflight`). */
async function boot(
  options: SingleflightModuleOptions | undefined,
  imports: unknown[] = [],
  providers = options?.cache === false ? [] : [Prices],
): Promise<{ app: INestApplication; logged: Logged[] }> {
  const logged: Logged[] = [];
  const record = (level: Logged['level']) => (message: string, context?: string) => {
    if (context === 'Singleflight') logged.push({ level, message });
  };
  const moduleRef = await Test.createTestingModule({
    imports: [...(imports as never[]), SingleflightModule.forRoot(options)],
    providers,
  }).compile();
  const app = moduleRef.createNestApplication({
    logger: { log: record('log'), warn: record('warn'), error: () => undefined },
  });
  apps.push(app);
  await app.init();
  return { app, logged };
}

/** The one start-up line: exactly one line of level `log` from the module. */
function startupLine(logged: Logged[]): string {
  const lines = logged.filter((entry) => entry.level === 'log');
  expect(lines).toHaveLength(1);
  return lines[0]!.message;
}

describe('the start-up line', () => {
  it('says the module keeps values in its own in-memory cache, with nothing else on', async () => {
    const { logged } = await boot(undefined);
    expect(startupLine(logged)).toBe(
      'Cache: in-memory, in this instance only (no CACHE_MANAGER or cache.stores used). ' +
        'Redis: off (each instance on its own). Metrics: off. Debug logs: off.',
    );
    expect(logged.filter((entry) => entry.level === 'warn')).toEqual([]);
  });

  it("names the app's global CACHE_MANAGER", async () => {
    const { logged } = await boot({}, [CacheModule.register({ isGlobal: true })]);
    expect(startupLine(logged)).toMatch(/^Cache: the app's CACHE_MANAGER\. Redis: off/);
  });

  it("injects a global CACHE_MANAGER's FlightCache itself, not a stand-in made on first use", async () => {
    const { app } = await boot({}, [CacheModule.register({ isGlobal: true })]);
    const flightCache = app.get(FlightCache);
    expect(isProxy(flightCache)).toBe(false);
    expect(flightCache.cache).toBe(app.get(CACHE_MANAGER));
  });

  it('counts the Keyv stores given, and says when caching is off', async () => {
    const stores = await boot({ cache: { stores: [new Keyv(), new Keyv()] } });
    expect(startupLine(stores.logged)).toMatch(/^Cache: 2 Keyv stores \(cache\.stores\)\. /);
    const off = await boot({ cache: false });
    expect(startupLine(off.logged)).toMatch(/^Cache: off \(cache: false\)\. /);
  });

  it('says when metrics and debug logs are on', async () => {
    const { logged } = await boot({ metrics: { registry: new Registry() }, debug: true });
    expect(startupLine(logged)).toMatch(/ Metrics: on\. Debug logs: on\.$/);
  });

  it('is logged once per app, when it starts, not again by later calls', async () => {
    const { app, logged } = await boot(undefined);
    await app.get(Prices).price('a');
    await app.get(Prices).price('a');
    startupLine(logged);
    const second = await boot({ cache: false });
    startupLine(second.logged);
  });
});

describe('the start-up line with Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('gives the namespace of flights and writes, or says one is off', async () => {
    const client = createClient({ url: server.url, disableOfflineQueue: true });
    await client.connect();
    try {
      const both = await boot({ redis: { client, namespace: 'orders' } });
      expect(startupLine(both.logged)).toContain(
        'Redis: flights under "orders:sf", writes under "orders:mw".',
      );
      const flightsOnly = await boot({ redis: { client, namespace: 'stock', writes: false } });
      expect(startupLine(flightsOnly.logged)).toContain(
        'Redis: flights under "stock:sf", writes off.',
      );
      const own = await boot({ redis: { client, flights: { namespace: 'mine' }, writes: false } });
      expect(startupLine(own.logged)).toContain('Redis: flights under "mine", writes off.');
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      client.destroy();
    }
  });
});

describe('a CacheModule that is not global', () => {
  it("is found in the root module: values reach the app's CACHE_MANAGER", async () => {
    const { app, logged } = await boot({}, [CacheModule.register()]);
    const prices = app.get(Prices);
    expect(await prices.price('a')).toEqual({ sku: 'a', run: 1 });
    const appCache = app.get<Cache>(CACHE_MANAGER);
    await expect(appCache.get('Prices.price:a#sf1')).resolves.toEqual({ sku: 'a', run: 1 });
    // And the module reads it from there: a value the app put is the answer.
    await appCache.set('Prices.price:b#sf1', { sku: 'b', run: 0 });
    expect(await prices.price('b')).toEqual({ sku: 'b', run: 0 });
    expect(prices.runs).toBe(1);
    expect(app.get(FlightCache).cache).toBe(appCache);
    expect(startupLine(logged)).toMatch(/^Cache: the app's CACHE_MANAGER\. /);
  });

  it('is found in a feature module too', async () => {
    @Module({ imports: [CacheModule.register()] })
    class Feature {}
    const { app, logged } = await boot({}, [Feature]);
    await app.get(Prices).price('a');
    const appCache = app.get<Cache>(CACHE_MANAGER, { strict: false });
    await expect(appCache.get('Prices.price:a#sf1')).resolves.toEqual({ sku: 'a', run: 1 });
    expect(startupLine(logged)).toMatch(/^Cache: the app's CACHE_MANAGER\. /);
  });

  it('registered in two modules, is not guessed at: a warning says how to pick one', async () => {
    @Module({ imports: [CacheModule.register()] })
    class Feature {}
    const { app, logged } = await boot({}, [CacheModule.register(), Feature]);
    const warnings = logged.filter((entry) => entry.level === 'warn').map((e) => e.message);
    expect(warnings).toEqual([
      expect.stringMatching(
        /registers CACHE_MANAGER in several modules.*CacheModule\.register\(\{ isGlobal: true \}\)/,
      ),
    ]);
    expect(startupLine(logged)).toMatch(/^Cache: in-memory/);
    await app.get(Prices).price('a');
    await expect(app.get<Cache>(CACHE_MANAGER).get('Prices.price:a#sf1')).resolves.toBeUndefined();
  });

  it('request-scoped, is not used: a warning says how to make one visible', async () => {
    const scoped = {
      provide: CACHE_MANAGER,
      scope: Scope.REQUEST,
      useFactory: () => createCache(),
    };
    @Module({ providers: [scoped], exports: [CACHE_MANAGER] })
    class Feature {}
    const { logged } = await boot({}, [Feature]);
    const warnings = logged.filter((entry) => entry.level === 'warn').map((e) => e.message);
    expect(warnings).toEqual([expect.stringMatching(/CACHE_MANAGER is request-scoped.*isGlobal/)]);
    expect(startupLine(logged)).toMatch(/^Cache: in-memory/);
  });

  it('takes a typed invalidate: the FlightCache over it gets the key builder', async () => {
    const { app } = await boot({}, [CacheModule.register()]);
    const prices = app.get(Prices);
    await prices.price('a');
    const flights = app.get(FlightCache);
    expect(flights).toBeInstanceOf(FlightCache);
    await flights.invalidate(Prices, 'price', 'a');
    expect(await prices.price('a')).toEqual({ sku: 'a', run: 2 });
    const appCache = app.get<Cache>(CACHE_MANAGER);
    await expect(appCache.get('Prices.price:a#sf1')).resolves.toEqual({ sku: 'a', run: 2 });
  });
});
