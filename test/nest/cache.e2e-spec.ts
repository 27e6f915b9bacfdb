import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import {
  FlightCache,
  Group,
  SingleFlight,
  type SingleflightModuleOptions,
  SingleflightModule,
} from '../../lib/index.js';
import { KEYS_IN_PROGRESS } from '../../lib/cache/flight-cache.js';
import { deferred, flushMicrotasks } from '../support/deferred.js';
import { until } from '../support/until.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class PriceService {
  executions = 0;
  failNext = false;
  gate: Promise<void> = Promise.resolve();

  @SingleFlight((sku: string) => sku, { ttl: 60_000 })
  async price(sku: string): Promise<{ sku: string; run: number }> {
    const run = ++this.executions;
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('backend down');
    }
    return { sku, run };
  }

  @SingleFlight('short', { ttl: 60 })
  async short(): Promise<number> {
    return ++this.executions;
  }

  @SingleFlight('maybe', { ttl: 60_000, shouldCache: (value: number | null) => value !== null })
  async maybe(): Promise<number | null> {
    this.executions++;
    return null;
  }

  @SingleFlight('ahead', { ttl: 300, refreshThreshold: 250 })
  async ahead(): Promise<number> {
    return ++this.executions;
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(options: SingleflightModuleOptions = {}, imports: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({
    imports: [...(imports as never[]), SingleflightModule.forRoot(options)],
    providers: [PriceService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { prices: app.get(PriceService), group: app.get(Group), cache: app.get(FlightCache) };
}

const burst = <T>(n: number, call: () => Promise<T>) =>
  Promise.all(Array.from({ length: n }, call));

describe('caching after the flight (default in-memory cache)', () => {
  it('serves the second burst from the cache with no execution and no flight', async () => {
    const { prices, group, cache } = await boot();
    await burst(100, () => prices.price('a'));
    expect(prices.executions).toBe(1);
    const flights = group.stats().flights;
    const second = await burst(100, () => prices.price('a'));
    expect(second.every((p) => p.run === 1)).toBe(true);
    expect(prices.executions).toBe(1);
    expect(group.stats().flights).toBe(flights);
    expect(cache!.stats().hits).toBe(100);
  });

  it('never caches an error: the next call runs again', async () => {
    const { prices } = await boot();
    prices.failNext = true;
    const failed = await Promise.allSettled([prices.price('a'), prices.price('a')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(prices.price('a')).resolves.toEqual({ sku: 'a', run: 2 });
  });

  it('runs a new flight once the ttl has passed', async () => {
    const { prices } = await boot();
    await prices.short();
    await prices.short();
    expect(prices.executions).toBe(1);
    await sleep(100);
    await expect(prices.short()).resolves.toBe(2);
  });

  it('caches only what shouldCache accepts', async () => {
    const { prices } = await boot();
    await prices.maybe();
    await prices.maybe();
    expect(prices.executions).toBe(2);
  });

  it('keeps a flight invalidated while it runs from writing its value back', async () => {
    const { prices, cache } = await boot();
    const gate = deferred<void>();
    prices.gate = gate.promise;
    const running = prices.price('a');
    await cache!.invalidate('PriceService.price:a');
    gate.resolve();
    await expect(running).resolves.toEqual({ sku: 'a', run: 1 });
    prices.gate = Promise.resolve();
    await expect(prices.price('a')).resolves.toEqual({ sku: 'a', run: 2 });
  });

  it('refreshes ahead: answers the cached value past the threshold, then refreshes it once', async () => {
    const { prices, cache } = await boot();
    await expect(prices.ahead()).resolves.toBe(1);
    // 200 ms left of 300, under the 250 ms threshold; the clock is moved, not waited for.
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 100);
    try {
      await expect(Promise.all([prices.ahead(), prices.ahead()])).resolves.toEqual([1, 1]);
      await until(() => cache![KEYS_IN_PROGRESS] === 0);
      expect(prices.executions).toBe(2);
      await expect(prices.ahead()).resolves.toBe(2);
    } finally {
      clock.mockRestore();
    }
  });

  it('applies the module ttl default, and ttl 0 on a method turns caching off', async () => {
    @Injectable()
    class DefaultTtl {
      runs = 0;
      @SingleFlight('on')
      async on(): Promise<number> {
        return ++this.runs;
      }
      @SingleFlight('off', { ttl: 0 })
      async off(): Promise<number> {
        return ++this.runs;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ ttl: 60_000 })],
      providers: [DefaultTtl],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const service = app.get(DefaultTtl);
    await service.on();
    await service.on();
    expect(service.runs).toBe(1);
    await service.off();
    await service.off();
    expect(service.runs).toBe(3);
  });
});

/** A Keyv store adapter (Map-like) whose operations the test can count, break or hang. */
class TestStore extends Map<string, unknown> {
  gets = 0;
  mode: 'ok' | 'throw' | 'hang' | 'later' = 'ok';
  sets = 0;
  /** In mode 'later', every write waits on this, for the test to fail it when it chooses. */
  readonly later = deferred<never>();
  override get(key: string) {
    this.gets++;
    if (this.mode === 'throw') throw new Error('store down');
    if (this.mode === 'hang') return new Promise<never>(() => undefined) as never;
    return super.get(key);
  }
  override set(key: string, value: unknown) {
    this.sets++;
    if (this.mode === 'throw') throw new Error('store down');
    if (this.mode === 'later') return this.later.promise as never;
    return super.set(key, value);
  }
}

describe('caching with a Keyv store', () => {
  it('reads a cold cache once per key, not once per caller, and stores the value', async () => {
    const store = new TestStore();
    const { prices } = await boot({ cache: { stores: [new Keyv({ store })] } });
    await burst(200, () => prices.price('a'));
    expect(store.gets).toBe(1);
    expect(prices.executions).toBe(1);
    expect([...store.keys()]).toEqual(['keyv:PriceService.price:a#sf1']);
  });

  it.each(['throw', 'hang'] as const)(
    'still answers when the store fails (%s), and logs it',
    async (mode) => {
      const store = new TestStore();
      store.mode = mode;
      const warnings: string[] = [];
      const { prices, cache } = await boot({
        cache: { stores: [new Keyv({ store })], timeout: 50 },
      });
      app!.useLogger({
        log: () => undefined,
        error: () => undefined,
        warn: (message: string) => warnings.push(message),
      });
      const results = await burst(20, () => prices.price('a'));
      expect(results.every((r) => r.run === 1)).toBe(true);
      expect(prices.executions).toBe(1);
      expect(cache!.stats().errors).toBeGreaterThanOrEqual(1);
      expect(warnings.join()).toMatch(/cache store failed.*the call ran without it/);
      if (mode === 'hang') expect(warnings.join()).toMatch(/no answer within 50 ms/);
    },
  );
});

describe('a store that fails after the app closed', () => {
  it('logs nothing into the next app’s logger, and the call still answers', async () => {
    const store = new TestStore();
    store.mode = 'later';
    const { prices } = await boot({ cache: { stores: [new Keyv({ store })], timeout: 60_000 } });
    const first: string[] = [];
    app!.useLogger({ log: () => undefined, error: () => undefined, warn: (m) => first.push(m) });
    const running = prices.price('a');
    await until(() => store.sets === 1);
    await app!.close();
    app = undefined;
    await boot();
    // Nest's Logger is one per process: this replaces the first app's logger.
    const second: string[] = [];
    app!.useLogger({ log: () => undefined, error: () => undefined, warn: (m) => second.push(m) });
    store.later.reject(new Error('store down'));
    await expect(running).resolves.toEqual({ sku: 'a', run: 1 });
    await flushMicrotasks();
    expect(second).toEqual([]);
    expect(first).toEqual([]);
  });
});

describe('caching with @nestjs/cache-manager in the app', () => {
  it("uses the app's CACHE_MANAGER", async () => {
    const { prices } = await boot({}, [CacheModule.register({ isGlobal: true })]);
    await prices.price('a');
    const appCache = app!.get<Cache>(CACHE_MANAGER);
    await expect(appCache.get('PriceService.price:a#sf1')).resolves.toEqual({ sku: 'a', run: 1 });
    await appCache.del('PriceService.price:a#sf1');
    await prices.price('a');
    expect(prices.executions).toBe(2);
  });
});

describe('the cache timeout', () => {
  it('times the store, not the work: a slow flight is cached and answered locally', async () => {
    @Injectable()
    class Slow {
      runs = 0;
      @SingleFlight('slow', { ttl: 60_000 })
      async load(): Promise<number> {
        await sleep(80);
        return ++this.runs;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ cache: { timeout: 20 } })],
      providers: [Slow],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const slow = app.get(Slow);
    const cache = app.get(FlightCache)!;
    await expect(slow.load()).resolves.toBe(1);
    expect(cache.stats()).toEqual({ hits: 0, misses: 1, errors: 0 });
    const flights = app.get(Group).stats().flights;
    await expect(slow.load()).resolves.toBe(1);
    expect(app.get(Group).stats().flights).toBe(flights);
    expect(cache.stats().hits).toBe(1);
  });
});
