import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  Controller,
  Get,
  type INestApplication,
  Injectable,
  Param,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import request from 'supertest';
import {
  MergeWrites,
  SingleFlight,
  SingleflightModule,
  SingleflightOptionsError,
  SingleflightReentryError,
  type SingleflightRedisOptions,
  type WriteRunContext,
} from '../../lib/index.js';
import { deferred, rejectionOf } from '../support/deferred.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';
import { type RedisClient, redisState } from '../support/write-fleet.js';

/** What every instance's backend saw: one list for the whole fleet, as a shared backend would. */
const backend = {
  calls: [] as string[],
  pushes: [] as number[],
  fenced: [] as Array<{ version: number; context: WriteRunContext }>,
  running: 0,
  overlapped: false,
  /** When set, versioned pushes wait for it: a test holds a run to queue calls behind it. */
  gate: undefined as Promise<void> | undefined,
};

@Injectable()
class TokenService {
  @SingleFlight((region: string) => region, { ttl: 60_000 })
  async token(region: string): Promise<{ region: string; token: string }> {
    backend.calls.push(region);
    await new Promise((resolve) => setTimeout(resolve, 150));
    if (region === 'mars') throw new BadRequestException(`unsupported region ${region}`);
    return { region, token: `t-${region}-${backend.calls.length}` };
  }

  @SingleFlight((region: string) => region, { distributed: false })
  async local(region: string): Promise<string> {
    backend.calls.push(`local:${region}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return region;
  }

  @MergeWrites((key: string) => key)
  async push(key: string, version: number): Promise<number> {
    void key;
    if (++backend.running > 1) backend.overlapped = true;
    await new Promise((resolve) => setTimeout(resolve, 40));
    backend.pushes.push(version);
    backend.running--;
    return version;
  }

  @MergeWrites((key: string) => key, { version: (_key: string, version: number) => version })
  async versionedPush(key: string, version: number): Promise<number> {
    void key;
    if (++backend.running > 1) backend.overlapped = true;
    await (backend.gate ?? new Promise((resolve) => setTimeout(resolve, 40)));
    backend.pushes.push(version);
    backend.running--;
    return version;
  }

  @MergeWrites((key: string) => key, { context: true })
  async fencedPush(key: string, version: number, context?: WriteRunContext): Promise<number> {
    void key;
    await new Promise((resolve) => setTimeout(resolve, 20));
    backend.fenced.push({ version, context: context! });
    return version;
  }
}

@Controller('tokens')
class TokensController {
  constructor(private readonly tokens: TokenService) {}

  @Get(':region')
  token(@Param('region') region: string) {
    return this.tokens.token(region);
  }
}

interface Instance {
  app: INestApplication;
  service: TokenService;
  close(): Promise<void>;
}

type Connect = (
  url: string,
) => Promise<{ options: SingleflightRedisOptions; close(): Promise<void> }>;

/** One instance of the app with its own Redis connection, as one pod of a fleet. */
async function instance(redis: Connect): Promise<Instance> {
  const connection = await redis(server.url);
  const moduleRef = await Test.createTestingModule({
    imports: [
      // A reply slower than opTimeoutMs counts as an outage, and the call then runs in this
      // instance alone; a loaded machine can be slower than the default 250 ms, and these tests
      // are not about outages (the one that is stops its server).
      SingleflightModule.forRoot({
        redis: { namespace: 'tokens-app', opTimeoutMs: 5_000, ...connection.options },
      }),
    ],
    controllers: [TokensController],
    providers: [TokenService],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return {
    app,
    service: app.get(TokenService),
    async close() {
      await app.close();
      await connection.close();
    },
  };
}

const nodeRedis: Connect = async (url) => {
  const client = createClient({ url, disableOfflineQueue: true });
  await client.connect();
  return { options: { client }, close: async () => client.destroy() };
};

const ioredis: Connect = async (url) => {
  const client = new Redis(url, { enableOfflineQueue: false, lazyConnect: true });
  await client.connect();
  return { options: { client }, close: async () => client.disconnect() };
};

let server: RedisServer;
const open: Instance[] = [];
beforeAll(async () => {
  server = await startRedis();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()));
  Object.assign(backend, { calls: [], pushes: [], fenced: [], running: 0, overlapped: false });
});
afterAll(async () => {
  await server?.stop();
});

async function fleet(size: number, redis = nodeRedis): Promise<Instance[]> {
  const made = await Promise.all(Array.from({ length: size }, () => instance(redis)));
  open.push(...made);
  return made;
}

describe('SingleflightModule.forRoot({ redis })', () => {
  it.each([
    ['node-redis', nodeRedis],
    ['ioredis', ioredis],
  ])('runs a method once for 3 instances x 100 concurrent callers (%s)', async (name, redis) => {
    const instances = await fleet(3, redis);
    // A key of its own: Redis keeps a result for a moment (resultTtlMs) for late instances.
    const region = `eu-${name}`;
    const results = await Promise.all(
      instances.flatMap((i) => Array.from({ length: 100 }, () => i.service.token(region))),
    );
    expect(backend.calls).toEqual([region]);
    expect(new Set(results.map((r) => r.token))).toEqual(new Set([results[0]!.token]));
  });

  it('keeps a method with distributed: false in each instance', async () => {
    const instances = await fleet(3);
    await Promise.all(
      instances.flatMap((i) => Array.from({ length: 50 }, () => i.service.local('eu'))),
    );
    expect(backend.calls).toEqual(['local:eu', 'local:eu', 'local:eu']);
  });

  it("answers another instance's HTTP error with the same status, and never caches it", async () => {
    const [a, b] = await fleet(2);
    const responses = await Promise.all([
      ...Array.from({ length: 20 }, () => request(a!.app.getHttpServer()).get('/tokens/mars')),
      ...Array.from({ length: 20 }, () => request(b!.app.getHttpServer()).get('/tokens/mars')),
    ]);
    expect(backend.calls).toEqual(['mars']);
    for (const response of responses) {
      expect(response.status).toBe(400);
      expect(response.body.message).toBe('unsupported region mars');
    }
    await request(b!.app.getHttpServer()).get('/tokens/mars').expect(400);
    expect(backend.calls).toEqual(['mars', 'mars']);
  });

  // Calls sent to three instances at once reach Redis in any order: with `version`, the newest
  // version is pushed last whatever that order (without it, the call Redis sees last wins).
  it('pushes one key at a time across instances, the newest version last', async () => {
    const instances = await fleet(3);
    const calls: Promise<unknown>[] = [];
    for (let version = 1; version <= 30; version++) {
      calls.push(instances[version % 3]!.service.versionedPush('doc', version));
      if (version % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await Promise.all(calls);
    expect(backend.overlapped).toBe(false);
    expect(backend.pushes.at(-1)).toBe(30);
    expect(backend.pushes.length).toBeLessThan(30);
  });

  it('pushes the highest version when an older event reaches Redis after a newer one', async () => {
    const instances = await fleet(3);
    const raw = createClient({ url: server.url });
    await raw.connect();
    const gate = deferred();
    backend.gate = gate.promise;
    const key = 'TokenService.versionedPush:out-of-order';
    const state = () => redisState(raw as RedisClient, 'tokens-app:mw', key);
    /** Polls Redis until the key's state shows what the test waits for (events are counted in `ver`). */
    const eventually = async (done: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 10_000; !(await done());) {
        if (Date.now() > deadline) throw new Error('Redis never showed the expected state');
      }
    };
    try {
      const first = instances[0]!.service.versionedPush('out-of-order', 1);
      await until(() => backend.running === 1);
      const newer = instances[1]!.service.versionedPush('out-of-order', 3);
      await eventually(async () => (await state()).ver === 2);
      // Version 2 reaches Redis after version 3, from a third instance.
      const older = instances[2]!.service.versionedPush('out-of-order', 2);
      await eventually(async () => (await state()).ver === 3);
      gate.resolve();
      await Promise.all([first, newer, older]);
      expect(backend.pushes).toEqual([1, 3]);
      expect(backend.overlapped).toBe(false);
    } finally {
      backend.gate = undefined;
      gate.resolve();
      await raw.destroy();
    }
  });

  it('gives a method with context: true a fence that grows with every run across instances', async () => {
    const instances = await fleet(3);
    const calls: Promise<unknown>[] = [];
    for (let version = 1; version <= 11; version++) {
      calls.push(instances[version % 3]!.service.fencedPush('order-7', version));
      if (version % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await Promise.all(calls);
    // Concurrent calls on different instances reach Redis in no fixed order, so "newest" among
    // them is whichever arrived last; a call made after they all settled is newest for certain.
    await instances[0]!.service.fencedPush('order-7', 12);
    const fences = backend.fenced.map((push) => push.context.fence);
    expect(fences.length).toBeGreaterThan(1);
    expect(fences).toEqual([...fences].sort((a, b) => a - b));
    expect(new Set(fences).size).toBe(fences.length);
    expect(fences[0]).toBeGreaterThan(0);
    expect(backend.fenced.at(-1)!.version).toBe(12);
    expect(backend.fenced[0]!.context.key).toBe('TokenService.fencedPush:order-7');
    expect(backend.fenced[0]!.context.signal).toBeInstanceOf(AbortSignal);
  });

  it('gives fence 0 to a method with context: true without Redis', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
      providers: [TokenService],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await app.get(TokenService).fencedPush('k', 1);
      expect(backend.fenced).toEqual([
        {
          version: 1,
          context: { key: 'TokenService.fencedPush:k', fence: 0, signal: expect.any(AbortSignal) },
        },
      ]);
    } finally {
      await app.close();
    }
  });

  it('serves every call when Redis is gone, each instance on its own', async () => {
    const down = await startRedis();
    await down.stop();
    const instances = await Promise.all([0, 1].map(() => instanceAt(down.url)));
    open.push(...instances);
    const results = await Promise.all(
      instances.flatMap((i) => Array.from({ length: 50 }, () => i.service.token('asia'))),
    );
    expect(results).toHaveLength(100);
    expect(backend.calls).toEqual(['asia', 'asia']);
  });

  it('refuses a merge function on a method whose writes go through Redis, at start-up', async () => {
    @Injectable()
    class Merging {
      @MergeWrites((key: string) => key, { merge: (_pending, next) => next })
      async push(key: string): Promise<string> {
        return key;
      }
    }
    const client = createClient({ url: server.url, disableOfflineQueue: true });
    await client.connect();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [SingleflightModule.forRoot({ redis: { client, namespace: 'merging-app' } })],
        providers: [Merging],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await expect(app.init()).rejects.toThrow(SingleflightOptionsError);
      await expect(app.init()).rejects.toThrow(/Merging\.push has a `merge` function/);
      await app.close();
    } finally {
      client.destroy();
    }
  });

  it('passes detectAsyncReentry to the distributed MergeWrites: a push writing its own key after an await fails fast', async () => {
    @Injectable()
    class Reentrant {
      @MergeWrites((key: string) => key)
      async save(key: string, nested: boolean): Promise<string> {
        await Promise.resolve();
        if (!nested) return 'saved';
        // Without detection this waits for the follow-up push, until waitTimeoutMs (30 s).
        return this.save(key, false).then(
          () => 'no re-entry',
          (error: unknown) => (error instanceof SingleflightReentryError ? 're-entry' : 'other'),
        );
      }
    }
    const client = createClient({ url: server.url, disableOfflineQueue: true });
    await client.connect();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          SingleflightModule.forRoot({
            detectAsyncReentry: true,
            redis: { client, namespace: 'reentrant-app' },
          }),
        ],
        providers: [Reentrant],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      await expect(app.get(Reentrant).save('k', true)).resolves.toBe('re-entry');
      await expect(app.get(Reentrant).save('k', false)).resolves.toBe('saved');
      await app.close();
    } finally {
      client.destroy();
    }
  });

  it('refuses redis options without a client', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ redis: { namespace: 'no-client' } })],
      providers: [TokenService],
    });
    await expect(moduleRef.compile()).rejects.toThrow(/needs `url` .*`client`/);
  });
});

/** An instance whose Redis is not there: node-redis keeps trying to connect in the background. */
async function instanceAt(url: string): Promise<Instance> {
  return instance(async () => {
    const client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 200 },
    });
    client.on('error', () => undefined);
    client.connect().catch(() => undefined);
    return { options: { client }, close: async () => client.destroy() };
  });
}

describe('an app with redis that closed', () => {
  it('logs nothing of a write that goes on after it closed, into the next app’s logger', async () => {
    const gate = deferred<void>();
    let started = false;
    let returned = false;
    @Injectable()
    class Slow {
      @MergeWrites('k')
      async push(): Promise<string> {
        started = true;
        await gate.promise;
        returned = true;
        return 'late';
      }
    }
    const client = createClient({ url: server.url, disableOfflineQueue: true });
    client.on('error', () => undefined);
    await client.connect();
    const moduleRef = await Test.createTestingModule({
      imports: [
        SingleflightModule.forRoot({
          // close() waits for a run in progress for at most a lease.
          redis: { namespace: 'closing-app', client, writes: { leaseMs: 30 } },
        }),
      ],
      providers: [Slow],
    }).compile();
    const first = moduleRef.createNestApplication({ logger: false });
    await first.init();
    const late = first.get(Slow).push();
    late.catch(() => undefined);
    await until(() => started);
    await first.close();
    // Redis is out of reach now: the run's lease renewals and its end fail, and say so.
    client.destroy();
    const next = (await Test.createTestingModule({}).compile()).createNestApplication();
    const warnings: string[] = [];
    next.useLogger({ log: () => undefined, error: () => undefined, warn: (m) => warnings.push(m) });
    gate.resolve();
    await rejectionOf(late);
    await until(() => returned);
    // The end of the run fails at once on the closed client: a few turns see it through.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([]);
    await next.close();
  });
});
