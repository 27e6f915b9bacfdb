import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Keyv } from 'keyv';
import { Registry, register } from 'prom-client';
import { Observable, timer, map } from 'rxjs';
import {
  MergeWrites,
  SingleFlight,
  SingleflightKeyError,
  type SingleflightModuleOptions,
  SingleflightModule,
  SingleflightOptionsError,
  SingleflightReentryError,
  SingleflightTimeoutError,
} from '../../../lib/index.js';
import { deferred, flushMicrotasks, rejectionOf } from '../../support/deferred.js';
import { CapturingLogger, expectCounts, read } from '../../support/observe.js';
import { until } from '../../support/until.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class CatalogService {
  executions = 0;
  gate = deferred<void>();

  @SingleFlight((id: string) => id)
  async item(id: string): Promise<{ id: string; run: number }> {
    const run = ++this.executions;
    await this.gate.promise;
    return { id, run };
  }

  // No annotated return type: the first call finds out what the method returns.
  @SingleFlight((id: string) => id)
  async inferred(id: string) {
    this.executions++;
    await this.gate.promise;
    return id;
  }

  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async price(id: string): Promise<number> {
    void id;
    return ++this.executions;
  }

  @SingleFlight('slow', { timeout: 20 })
  async slow(): Promise<string> {
    await sleep(80);
    return 'late';
  }

  @SingleFlight('broken')
  async broken(): Promise<never> {
    await sleep(5);
    throw new Error('backend down');
  }

  @SingleFlight()
  async byDefaultKey(input: unknown): Promise<unknown> {
    return input;
  }

  /** Calls itself from inside its own flight: the Group refuses that call as a re-entry. */
  @SingleFlight('loop')
  async loop(): Promise<unknown> {
    return this.loop();
  }

  @SingleFlight('ticks')
  ticks(): Observable<number> {
    this.executions++;
    return timer(20).pipe(map(() => 1));
  }
}

@Injectable()
class PushService {
  gate = deferred<void>();
  pushed: number[] = [];
  tries = 0;

  @MergeWrites((key: string) => key)
  async push(key: string, version: number): Promise<number> {
    void key;
    await this.gate.promise;
    this.pushed.push(version);
    return version;
  }

  @MergeWrites('flaky', { retry: { attempts: 3 } })
  async flaky(): Promise<string> {
    if (++this.tries < 3) throw new Error('downstream hiccup');
    return 'ok';
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  // No wait for flights callers left: what they report after their app closed is dropped.
  await app?.close();
  app = undefined;
});

async function boot(options: SingleflightModuleOptions, logger: LoggerService | false = false) {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot(options)],
    providers: [CatalogService, PushService],
  }).compile();
  app = moduleRef.createNestApplication({ logger });
  await app.init();
  return { catalog: app.get(CatalogService), pushes: app.get(PushService) };
}

const burst = <T>(n: number, call: () => Promise<T>) =>
  Promise.all(Array.from({ length: n }, call));

describe('Prometheus metrics (metrics: { registry })', () => {
  it('counts 200 concurrent calls as 200 calls, 1 flight and 199 joins, with one duration', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    const calls = burst(200, () => catalog.item('u1'));
    catalog.gate.resolve();
    await calls;
    expect(catalog.executions).toBe(1);
    await expectCounts(registry, 'CatalogService.item', {
      calls_total: 200,
      flights_total: 1,
      joins_total: 199,
      errors_total: 0,
      flight_duration_seconds_count: 1,
    });
  });

  it('counts a method whose return type is not annotated from its first call on', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    const calls = burst(200, () => catalog.inferred('u1'));
    catalog.gate.resolve();
    await calls;
    expect(catalog.executions).toBe(1);
    await expectCounts(registry, 'CatalogService.inferred', {
      calls_total: 200,
      flights_total: 1,
      joins_total: 199,
      flight_duration_seconds_count: 1,
    });
  });

  it('has one histogram observation per flight, each with its duration', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    catalog.gate.resolve();
    await catalog.item('a');
    await Promise.all([catalog.item('b'), catalog.item('b'), catalog.item('c')]);
    const method = 'CatalogService.item';
    expect(await read(registry, 'flights_total', method)).toBe(3);
    expect(await read(registry, 'flight_duration_seconds_count', method)).toBe(3);
    expect(await read(registry, 'flight_duration_seconds_sum', method)).toBeGreaterThan(0);
    const text = await registry.metrics();
    expect(text).toMatch(
      /singleflight_flight_duration_seconds_bucket\{le="\+Inf",method="CatalogService\.item"\} 3/,
    );
  });

  it('counts hits of the local cache per call, and the one miss that filled it', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    await catalog.price('a');
    await burst(50, () => catalog.price('a'));
    expect(catalog.executions).toBe(1);
    await expectCounts(registry, 'CatalogService.price', {
      calls_total: 51,
      flights_total: 1,
      cache_hits_total: 50,
      cache_misses_total: 1,
      flight_duration_seconds_count: 1,
    });
  });

  it('counts a flight that found its value in the cache store as a hit', async () => {
    const registry = new Registry();
    // A store of its own has no local mirror: every call is a flight that reads the store.
    const { catalog } = await boot({ metrics: { registry }, cache: { stores: [new Keyv()] } });
    await catalog.price('a');
    await catalog.price('a');
    expect(catalog.executions).toBe(1);
    await expectCounts(registry, 'CatalogService.price', {
      calls_total: 2,
      flights_total: 2,
      cache_hits_total: 1,
      cache_misses_total: 1,
    });
  });

  it('counts a caller that timed out, and the flight that went on without it', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    expect(await rejectionOf(catalog.slow())).toBeInstanceOf(SingleflightTimeoutError);
    const method = 'CatalogService.slow';
    expect(await read(registry, 'timeouts_total', method)).toBe(1);
    expect(await read(registry, 'flight_duration_seconds_count', method)).toBe(0);
    await sleep(100);
    await expectCounts(registry, method, {
      calls_total: 1,
      flights_total: 1,
      timeouts_total: 1,
      aborts_total: 0,
      errors_total: 0,
      flight_duration_seconds_count: 1,
    });
  });

  it('counts a failed flight once, however many callers shared its error', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    const outcomes = await Promise.allSettled([catalog.broken(), catalog.broken()]);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    await expectCounts(registry, 'CatalogService.broken', {
      calls_total: 2,
      flights_total: 1,
      errors_total: 1,
      flight_duration_seconds_count: 1,
    });
  });

  it('counts a call the Group refused as a re-entry as an error, not as a join', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    expect(await rejectionOf(catalog.loop())).toBeInstanceOf(SingleflightReentryError);
    // The outer call led the flight, which failed with the inner call's error.
    await expectCounts(registry, 'CatalogService.loop', {
      calls_total: 2,
      flights_total: 1,
      joins_total: 0,
      errors_total: 2,
      flight_duration_seconds_count: 1,
    });
  });

  it('counts a call whose key cannot be built as a call and an error', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    expect(await rejectionOf(catalog.byDefaultKey(new Map([['user', 1]])))).toBeInstanceOf(
      SingleflightKeyError,
    );
    await expectCounts(registry, 'CatalogService.byDefaultKey', {
      calls_total: 1,
      flights_total: 0,
      errors_total: 1,
    });
  });

  it('counts subscriptions of an Observable method: one upstream, the others joined', async () => {
    const registry = new Registry();
    const { catalog } = await boot({ metrics: { registry } });
    const values = await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise((resolve, reject) =>
            catalog.ticks().subscribe({ next: resolve, error: reject }),
          ),
      ),
    );
    expect(values).toEqual([1, 1, 1]);
    expect(catalog.executions).toBe(1);
    await until(() => true);
    await expectCounts(registry, 'CatalogService.ticks', {
      calls_total: 3,
      flights_total: 1,
      joins_total: 2,
      flight_duration_seconds_count: 1,
    });
  });

  it('counts a @MergeWrites burst as coalesced calls and two runs', async () => {
    const registry = new Registry();
    const { pushes } = await boot({ metrics: { registry } });
    const first = pushes.push('k', 1);
    const burstCalls = Array.from({ length: 10 }, (_, i) => pushes.push('k', i + 2));
    pushes.gate.resolve();
    await Promise.all([first, ...burstCalls]);
    expect(pushes.pushed).toEqual([1, 11]);
    await expectCounts(registry, 'PushService.push', {
      calls_total: 11,
      write_runs_total: 2,
      // The first of the burst started the pending run; the nine after it were merged into it.
      write_coalesced_total: 9,
      write_retries_total: 0,
      errors_total: 0,
      write_duration_seconds_count: 2,
    });
  });

  it('counts the retries of a @MergeWrites run', async () => {
    const registry = new Registry();
    const { pushes } = await boot({ metrics: { registry } });
    expect(await pushes.flaky()).toBe('ok');
    await expectCounts(registry, 'PushService.flaky', {
      calls_total: 1,
      write_runs_total: 1,
      write_retries_total: 2,
      errors_total: 0,
    });
  });

  it('labels every series by Class.method only, never by a key', async () => {
    const registry = new Registry();
    const { catalog, pushes } = await boot({ metrics: { registry } });
    catalog.gate.resolve();
    pushes.gate.resolve();
    await Promise.all([
      catalog.item('secret-key-1'),
      catalog.inferred('secret-key-2'),
      catalog.price('secret-key-3'),
      pushes.push('secret-key-4', 1),
      rejectionOf(catalog.slow()),
    ]);
    const methods = new Set<string>();
    for (const metric of await registry.getMetricsAsJSON()) {
      expect(metric.name.startsWith('singleflight_')).toBe(true);
      for (const { labels } of metric.values) {
        const { method, le, ...others } = labels as Record<string, string>;
        void le;
        expect(others).toEqual({});
        methods.add(method!);
      }
    }
    expect([...methods].sort()).toEqual([
      'CatalogService.inferred',
      'CatalogService.item',
      'CatalogService.price',
      'CatalogService.slow',
      'PushService.push',
    ]);
    expect(await registry.metrics()).not.toContain('secret-key');
  });

  it('uses the prefix and buckets given', async () => {
    const registry = new Registry();
    const { catalog } = await boot({
      metrics: { registry, prefix: 'app_sf_', buckets: [0.5, 1] },
    });
    catalog.gate.resolve();
    await catalog.item('a');
    const text = await registry.metrics();
    expect(text).toContain('app_sf_calls_total{method="CatalogService.item"} 1');
    expect(text).toContain(
      'app_sf_flight_duration_seconds_bucket{le="0.5",method="CatalogService.item"} 1',
    );
    expect(text).not.toContain('singleflight_');
  });
});

describe('the registry (metrics: true)', () => {
  it('registers in prom-client’s global registry, and takes the metrics out on close', async () => {
    const { catalog } = await boot({ metrics: true });
    catalog.gate.resolve();
    await catalog.item('a');
    expect(await register.getSingleMetricAsString('singleflight_calls_total')).toContain(
      'singleflight_calls_total{method="CatalogService.item"} 1',
    );
    await app!.close();
    app = undefined;
    expect(register.getSingleMetric('singleflight_calls_total')).toBeUndefined();
    // A new app in this process registers again.
    await boot({ metrics: true });
    expect(register.getSingleMetric('singleflight_calls_total')).toBeDefined();
  });

  it('fails the boot with a named error when another app holds the metrics of a registry', async () => {
    const registry = new Registry();
    await boot({ metrics: { registry } });
    const second = Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ metrics: { registry } })],
    }).compile();
    await expect(second).rejects.toThrow(SingleflightOptionsError);
    await expect(
      Test.createTestingModule({
        imports: [SingleflightModule.forRoot({ metrics: { registry } })],
      }).compile(),
    ).rejects.toThrow(
      /"singleflight_calls_total" is already registered.*own `registry` or `prefix`/,
    );
    // The first app's metrics are untouched.
    expect(registry.getSingleMetric('singleflight_calls_total')).toBeDefined();
  });

  it('rejects bad metrics and debug options at start-up', async () => {
    const bad: unknown[] = [
      { metrics: 'yes' },
      { metrics: { prefix: '1bad' } },
      { metrics: { prefix: 'has space_' } },
      { metrics: { buckets: [] } },
      { metrics: { buckets: [1, 0.5] } },
      { metrics: { registry: {} } },
      { metrics: { registy: new Registry() } },
      { debug: 'on' },
    ];
    for (const options of bad) {
      await expect(boot(options as SingleflightModuleOptions)).rejects.toThrow(
        SingleflightOptionsError,
      );
    }
    await expect(boot({ metrics: { registy: new Registry() } } as never)).rejects.toThrow(
      /Unknown option "registy" in SingleflightModule.forRoot\(\) metrics/,
    );
  });
});

describe('debug logs (debug: true)', () => {
  it('logs a flight’s start, its joins and its settle with the duration', async () => {
    const logger = new CapturingLogger();
    const { catalog } = await boot({ debug: true }, logger);
    const calls = burst(3, () => catalog.item('u1'));
    catalog.gate.resolve();
    await calls;
    const key = 'key "CatalogService.item:u1"';
    expect(logger.lines).toEqual([
      `CatalogService.item: flight started, ${key}`,
      `CatalogService.item: joined the flight in progress, ${key}`,
      `CatalogService.item: joined the flight in progress, ${key}`,
      expect.stringMatching(
        /^CatalogService\.item: flight settled in \d+\.\d ms, key "CatalogService\.item:u1"$/,
      ),
    ]);
  });

  it('logs failures, timeouts, cache hits and @MergeWrites runs', async () => {
    const logger = new CapturingLogger();
    const { catalog, pushes } = await boot({ debug: true }, logger);
    await rejectionOf(catalog.broken());
    await rejectionOf(catalog.slow());
    await catalog.price('a');
    await catalog.price('a');
    pushes.gate.resolve();
    await Promise.all([pushes.push('k', 1), pushes.push('k', 2), pushes.push('k', 3)]);
    const text = logger.lines.join('\n');
    expect(text).toMatch(
      /CatalogService\.broken: flight failed in \d+\.\d ms, key "CatalogService\.broken:broken": Error: backend down/,
    );
    expect(text).toContain(
      'CatalogService.slow: a caller left (SingleflightTimeoutError), key "CatalogService.slow:slow"',
    );
    expect(text).toContain(
      'CatalogService.price: answered from the cache, key "CatalogService.price:a"',
    );
    expect(text).toContain('PushService.push: run started, key "PushService.push:k"');
    expect(text).toContain(
      'PushService.push: waits for the run in progress, key "PushService.push:k"',
    );
    expect(text).toContain(
      'PushService.push: call served by a newer call\'s run, key "PushService.push:k"',
    );
    expect(text).toMatch(/PushService\.push: run settled in \d+\.\d ms, key "PushService\.push:k"/);
  });

  it('runs with metrics at once: both see every call', async () => {
    const logger = new CapturingLogger();
    const registry = new Registry();
    const { catalog } = await boot({ debug: true, metrics: { registry } }, logger);
    catalog.gate.resolve();
    await Promise.all([catalog.item('a'), catalog.item('a')]);
    expect(logger.lines).toHaveLength(3);
    expect(await read(registry, 'calls_total', 'CatalogService.item')).toBe(2);
    expect(await read(registry, 'joins_total', 'CatalogService.item')).toBe(1);
    await app!.close();
    app = undefined;
    expect(registry.getMetricsAsArray()).toEqual([]);
  });
});

describe('an app that closed', () => {
  it('logs nothing of a flight that settles after it closed, into the next app’s logger', async () => {
    const first = new CapturingLogger();
    const { catalog } = await boot({ debug: true }, first);
    const late = catalog.item('late');
    await app!.close();
    app = undefined;
    // Nest's Logger is one per process: the second app's logger replaces the first's.
    const second = new CapturingLogger();
    await boot({}, second);
    catalog.gate.resolve();
    await expect(late).resolves.toEqual({ id: 'late', run: 1 });
    await flushMicrotasks();
    expect(second.lines).toEqual([]);
    expect(first.lines).toEqual([
      'CatalogService.item: flight started, key "CatalogService.item:late"',
    ]);
  });
});

describe('metrics and debug logs off (the default)', () => {
  it('registers no metric and logs no line', async () => {
    const logger = new CapturingLogger();
    const before = register.getMetricsAsArray().length;
    const { catalog, pushes } = await boot({}, logger);
    catalog.gate.resolve();
    pushes.gate.resolve();
    await burst(20, () => catalog.item('a'));
    await catalog.price('a');
    await catalog.price('a');
    await rejectionOf(catalog.slow());
    await Promise.all([pushes.push('k', 1), pushes.push('k', 2), pushes.push('k', 3)]);
    expect(register.getMetricsAsArray()).toHaveLength(before);
    expect(register.getSingleMetric('singleflight_calls_total')).toBeUndefined();
    expect(logger.lines).toEqual([]);
  });

  it('also with `metrics: false` and `debug: false`', async () => {
    const logger = new CapturingLogger();
    const { catalog } = await boot({ metrics: false, debug: false }, logger);
    catalog.gate.resolve();
    await burst(5, () => catalog.item('a'));
    expect(register.getSingleMetric('singleflight_calls_total')).toBeUndefined();
    expect(logger.lines).toEqual([]);
  });
});
