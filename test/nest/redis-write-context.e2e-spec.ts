import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, Injectable, type INestApplication, Param, Put } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClsModule, ClsService } from 'nestjs-cls';
import { createClient } from 'redis';
import { Registry } from 'prom-client';
import request from 'supertest';
import { MergeWrites, SingleflightModule } from '../../lib/index.js';
import type { RedisCoordination } from '../../lib/nest/redis-coordination.js';
import { REDIS_COORDINATION } from '../../lib/nest/singleflight.constants.js';
import { deferred } from '../support/deferred.js';
import { expectCounts } from '../support/observe.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';

// A `@MergeWrites()` method whose writes go through Redis reads the request's user from
// AsyncLocalStorage (plain, or nestjs-cls) while it pushes: the follow-up push of a burst must
// see the user of the newest request it carries. It saw the first request's: bob's and carol's
// writes were pushed as alice.

/** How the app's code reads the current user. */
const CURRENT_USER = Symbol('CURRENT_USER');
type CurrentUser = () => string | undefined;

@Injectable()
class Orders {
  seen: string[] = [];
  gate = deferred();

  constructor(@Inject(CURRENT_USER) private readonly user: CurrentUser) {}

  @MergeWrites((id: string) => id)
  async push(id: string, state: string): Promise<string> {
    this.seen.push(`${id}=${state} by ${this.user() ?? 'nobody'}`);
    if (this.seen.length === 1) await this.gate.promise;
    return state;
  }
}

@Controller()
class OrdersController {
  constructor(private readonly orders: Orders) {}

  @Put('orders/:id/:state')
  async push(@Param('id') id: string, @Param('state') state: string) {
    return { pushed: await this.orders.push(id, state) };
  }
}

const userOf = (req: { headers: Record<string, unknown> }) =>
  req.headers['x-user'] as string | undefined;

let server: RedisServer;
let app: INestApplication | undefined;
let client: ReturnType<typeof createClient> | undefined;
let namespaces = 0;

beforeAll(async () => {
  server = await startRedis();
});
afterEach(async () => {
  await app?.close();
  client?.destroy();
  app = undefined;
  client = undefined;
});
afterAll(async () => {
  await server?.stop();
});

async function redisModule(registry: Registry) {
  client = createClient({ url: server.url, disableOfflineQueue: true });
  await client.connect();
  return SingleflightModule.forRoot({
    redis: { client, namespace: `ctx${++namespaces}` },
    metrics: { registry },
  });
}

/** The user in a plain AsyncLocalStorage, entered by an Express middleware. */
async function withAsyncLocalStorage(registry: Registry) {
  const users = new AsyncLocalStorage<string | undefined>();
  const moduleRef = await Test.createTestingModule({
    imports: [await redisModule(registry)],
    providers: [Orders, { provide: CURRENT_USER, useValue: () => users.getStore() }],
    controllers: [OrdersController],
  }).compile();
  const nest = moduleRef.createNestApplication({ logger: false });
  nest.use((req: { headers: Record<string, unknown> }, _res: unknown, next: () => void) =>
    users.run(userOf(req), next),
  );
  return nest;
}

/** The user in nestjs-cls, set by its middleware. */
async function withNestjsCls(registry: Registry) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClsModule.forRoot({
        global: true,
        middleware: {
          mount: true,
          setup: (cls, req: { headers: Record<string, unknown> }) => cls.set('user', userOf(req)),
        },
      }),
      await redisModule(registry),
    ],
    providers: [
      Orders,
      {
        provide: CURRENT_USER,
        inject: [ClsService],
        useFactory: (cls: ClsService) => () => cls.get<string>('user'),
      },
    ],
    controllers: [OrdersController],
  }).compile();
  return moduleRef.createNestApplication({ logger: false });
}

/**
 * Alice's write over HTTP, held in its push; then bob's and carol's, each once the one before
 * reached Redis: they wait for one follow-up.
 */
async function burst(setup: (registry: Registry) => Promise<INestApplication>) {
  const nest = (app = await setup(new Registry()));
  await nest.listen(0, '127.0.0.1');
  const url = await nest.getUrl();
  const orders = nest.get(Orders);
  const writes = nest.get<RedisCoordination>(REDIS_COORDINATION).writes!;
  const put = (user: string, state: string) =>
    request(url)
      .put(`/orders/7/${state}`)
      .set('x-user', user)
      .then((response) => response.body as unknown);
  const alice = put('alice', 'a');
  await until(() => orders.seen.length === 1);
  const bob = put('bob', 'b');
  await until(() => writes.stats().events === 2);
  const carol = put('carol', 'c');
  await until(() => writes.stats().events === 3);
  orders.gate.resolve();
  const responses = await Promise.all([alice, bob, carol]);
  return { responses, orders, writes };
}

describe.each([
  ['AsyncLocalStorage', withAsyncLocalStorage],
  ['nestjs-cls', withNestjsCls],
])('@MergeWrites() through Redis, the user from %s', (_name, setup) => {
  it("pushes a burst's follow-up as the newest request's user, over HTTP", async () => {
    const { responses, orders, writes } = await burst(setup);
    expect(responses).toEqual([{ pushed: 'a' }, { pushed: 'c' }, { pushed: 'c' }]);
    expect(orders.seen).toEqual(['7=a by alice', '7=c by carol']);
    expect(writes.stats()).toMatchObject({ runs: 2, followUps: 1 });
  });

  // Three calls before the first push started: each push ran the newest call's method, carol's
  // twice (the second counted as a retry), and alice's call, whose push ran, counted as merged.
  it("counts a burst's two pushes as two runs, each its own call's, and no retry", async () => {
    const registry = new Registry();
    const nest = (app = await setup(registry));
    await nest.init();
    const orders = nest.get(Orders);
    const writes = nest.get<RedisCoordination>(REDIS_COORDINATION).writes!;
    const calls = ['a', 'b', 'c'].map((state) => orders.push('7', state));
    await until(() => writes.stats().events === 2);
    orders.gate.resolve();
    expect(await Promise.all(calls)).toEqual(['a', 'c', 'c']);
    await expectCounts(registry, 'Orders.push', {
      calls_total: 3,
      write_runs_total: 2,
      write_retries_total: 0,
      write_coalesced_total: 1,
    });
  });
});
