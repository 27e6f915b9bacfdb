import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Param,
  Put,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Observable, firstValueFrom } from 'rxjs';
import { ClsModule, ClsService } from 'nestjs-cls';
import { createClient } from 'redis';
import request from 'supertest';
import {
  FlightCache,
  Group,
  MergeWrites,
  SingleFlight,
  SingleflightKeyError,
  SingleflightModule,
  type SingleflightModuleOptions,
} from '../../../lib/index.js';
import { type Deferred, deferred } from '../../support/deferred.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { until } from '../../support/until.js';

/** How the app's code reads the current tenant: the same source the module's keyContext reads. */
const CURRENT_TENANT = Symbol('CURRENT_TENANT');
type CurrentTenant = () => string | undefined;

/** A multi-tenant service: every result says which tenant it was computed for. */
@Injectable()
class TenantData {
  runs: string[] = [];
  pushed: string[] = [];
  gate = deferred();
  /** Pushes held until the test lets them end, by value. */
  holds = new Map<string, Deferred<void>>();
  #cachedRuns = 0;

  constructor(@Inject(CURRENT_TENANT) private readonly tenant: CurrentTenant) {}

  @SingleFlight((id: string) => id)
  async profile(id: string): Promise<{ tenant: string | undefined; id: string }> {
    const tenant = this.tenant();
    this.runs.push(`${tenant}/${id}`);
    await this.gate.promise;
    return { tenant, id };
  }

  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async cached(id: string): Promise<{ tenant: string | undefined; id: string; run: number }> {
    return { tenant: this.tenant(), id, run: ++this.#cachedRuns };
  }

  @SingleFlight('rates', { keyContext: false })
  async rates(): Promise<{ eur: number; runs: number }> {
    this.runs.push('rates');
    await this.gate.promise;
    return { eur: 1.1, runs: this.runs.length };
  }

  @SingleFlight((id: string) => id)
  feed(id: string): Observable<{ tenant: string | undefined; id: string }> {
    return new Observable((subscriber) => {
      const tenant = this.tenant();
      this.runs.push(`feed:${tenant}/${id}`);
      void this.gate.promise.then(() => {
        subscriber.next({ tenant, id });
        subscriber.complete();
      });
    });
  }

  @MergeWrites((id: string) => id)
  async push(id: string, value: string): Promise<string> {
    const pushed = `${this.tenant()}/${id}=${value}`;
    this.pushed.push(pushed);
    await this.holds.get(value)?.promise;
    return pushed;
  }
}

@Controller()
class TenantController {
  constructor(private readonly data: TenantData) {}

  @Get('profile/:id')
  profile(@Param('id') id: string) {
    return this.data.profile(id);
  }

  @Get('cached/:id')
  cached(@Param('id') id: string) {
    return this.data.cached(id);
  }

  @Get('rates')
  rates() {
    return this.data.rates();
  }

  @Put('push/:id/:value')
  async push(@Param('id') id: string, @Param('value') value: string) {
    return { pushed: await this.data.push(id, value) };
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const tenantOf = (req: { headers: Record<string, unknown> }) =>
  req.headers['x-tenant'] as string | undefined;

/** The tenant in a plain AsyncLocalStorage, entered by an Express middleware. */
async function withAsyncLocalStorage(options: SingleflightModuleOptions = {}) {
  const tenants = new AsyncLocalStorage<string | undefined>();
  const current: CurrentTenant = () => tenants.getStore();
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot({ keyContext: current, ...options })],
    providers: [TenantData, { provide: CURRENT_TENANT, useValue: current }],
    controllers: [TenantController],
  }).compile();
  const nest = moduleRef.createNestApplication({ logger: false });
  nest.use((req: { headers: Record<string, unknown> }, _res: unknown, next: () => void) =>
    tenants.run(tenantOf(req), next),
  );
  return { nest, runAs: <T>(tenant: string, fn: () => T) => tenants.run(tenant, fn) };
}

/** The tenant in nestjs-cls, set by its middleware; the module's options come from forRootAsync. */
async function withNestjsCls() {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClsModule.forRoot({
        global: true,
        middleware: {
          mount: true,
          setup: (cls, req: { headers: Record<string, unknown> }) =>
            cls.set('tenantId', tenantOf(req)),
        },
      }),
      SingleflightModule.forRootAsync({
        inject: [ClsService],
        useFactory: (cls: ClsService) => ({ keyContext: () => cls.get<string>('tenantId') }),
      }),
    ],
    providers: [
      TenantData,
      {
        provide: CURRENT_TENANT,
        inject: [ClsService],
        useFactory:
          (cls: ClsService): CurrentTenant =>
          () =>
            cls.get<string>('tenantId'),
      },
    ],
    controllers: [TenantController],
  }).compile();
  const nest = moduleRef.createNestApplication({ logger: false });
  const cls = nest.get(ClsService);
  const runAs = <T>(tenant: string, fn: () => T) =>
    cls.run(() => {
      cls.set('tenantId', tenant);
      return fn();
    });
  return { nest, runAs };
}

async function listen(nest: INestApplication) {
  app = nest;
  await nest.listen(0, '127.0.0.1');
  return nest.getUrl();
}

describe.each([
  ['AsyncLocalStorage', () => withAsyncLocalStorage()],
  ['nestjs-cls', withNestjsCls],
])('keyContext with %s, over HTTP', (_name, setup) => {
  it('3 tenants x 5 concurrent requests: one run per tenant, each gets its own', async () => {
    const { nest } = await setup();
    const url = await listen(nest);
    const data = nest.get(TenantData);
    const tenants = ['acme', 'globex', 'initech'];
    const calls = tenants.flatMap((tenant) =>
      Array.from({ length: 5 }, () =>
        request(url)
          .get('/profile/42')
          .set('x-tenant', tenant)
          .then((response) => ({ tenant, body: response.body as unknown })),
      ),
    );
    const responses = Promise.all(calls);
    await until(() => nest.get(Group).stats().calls === 15);
    data.gate.resolve();
    for (const { tenant, body } of await responses) expect(body).toEqual({ tenant, id: '42' });
    expect(data.runs.sort()).toEqual(['acme/42', 'globex/42', 'initech/42']);
  });

  it('caches each tenant its own value (ttl)', async () => {
    const { nest } = await setup();
    const url = await listen(nest);
    const get = (tenant: string) =>
      request(url)
        .get('/cached/7')
        .set('x-tenant', tenant)
        .then((response) => response.body as unknown);
    expect(await get('acme')).toEqual({ tenant: 'acme', id: '7', run: 1 });
    expect(await get('globex')).toEqual({ tenant: 'globex', id: '7', run: 2 });
    // Both are cached now, each under its tenant.
    expect(await get('acme')).toEqual({ tenant: 'acme', id: '7', run: 1 });
    expect(await get('globex')).toEqual({ tenant: 'globex', id: '7', run: 2 });
  });

  it("@MergeWrites: a tenant's write never waits for nor merges into another's run", async () => {
    const { nest } = await setup();
    const url = await listen(nest);
    const data = nest.get(TenantData);
    const hold = deferred();
    data.holds.set('v1', hold);
    const put = (tenant: string, value: string) =>
      request(url)
        .put(`/push/9/${value}`)
        .set('x-tenant', tenant)
        .then((response) => response.body as unknown);
    const first = put('acme', 'v1');
    await until(() => data.pushed.length === 1);
    // acme's run of key 9 is held: acme's next write waits for it, globex's runs at once.
    const second = put('acme', 'v2');
    const other = put('globex', 'v3');
    expect(await other).toEqual({ pushed: 'globex/9=v3' });
    expect(data.pushed).toEqual(['acme/9=v1', 'globex/9=v3']);
    hold.resolve();
    expect(await first).toEqual({ pushed: 'acme/9=v1' });
    expect(await second).toEqual({ pushed: 'acme/9=v2' });
    expect(data.pushed).toEqual(['acme/9=v1', 'globex/9=v3', 'acme/9=v2']);
  });

  it('`keyContext: false` shares one flight across tenants', async () => {
    const { nest } = await setup();
    const url = await listen(nest);
    const data = nest.get(TenantData);
    const responses = Promise.all(
      ['acme', 'globex', 'acme', 'globex'].map((tenant) =>
        request(url).get('/rates').set('x-tenant', tenant),
      ),
    );
    await until(() => nest.get(Group).stats().calls === 4);
    data.gate.resolve();
    for (const response of await responses) expect(response.body).toEqual({ eur: 1.1, runs: 1 });
    expect(data.runs).toEqual(['rates']);
  });

  it('calls without a context share with each other, never with a tenant', async () => {
    const { nest, runAs } = await setup();
    await nest.init();
    app = nest;
    const data = nest.get(TenantData);
    const calls = [data.profile('1'), data.profile('1'), runAs('acme', () => data.profile('1'))];
    await until(() => data.runs.length === 2);
    data.gate.resolve();
    expect(await Promise.all(calls)).toEqual([
      { tenant: undefined, id: '1' },
      { tenant: undefined, id: '1' },
      { tenant: 'acme', id: '1' },
    ]);
    expect(nest.get(Group).stats()).toMatchObject({ flights: 2, joins: 1 });
  });

  it('shares an Observable per tenant', async () => {
    const { nest, runAs } = await setup();
    await nest.init();
    app = nest;
    const data = nest.get(TenantData);
    const values = ['acme', 'globex', 'acme'].map((tenant) =>
      runAs(tenant, () => firstValueFrom(data.feed('3'))),
    );
    await until(() => data.runs.length === 2);
    data.gate.resolve();
    expect(await Promise.all(values)).toEqual([
      { tenant: 'acme', id: '3' },
      { tenant: 'globex', id: '3' },
      { tenant: 'acme', id: '3' },
    ]);
    expect(data.runs).toEqual(['feed:acme/3', 'feed:globex/3']);
  });

  it('forget() and invalidate() take the whole key, with the context in it', async () => {
    const { nest, runAs } = await setup();
    await nest.init();
    app = nest;
    const data = nest.get(TenantData);
    const cached = (tenant: string) => runAs(tenant, () => data.cached('7'));
    await cached('a:b');
    await cached('globex');
    await nest.get(FlightCache)!.invalidate('TenantData.cached:@a%3Ab:7');
    expect(await cached('a:b')).toEqual({ tenant: 'a:b', id: '7', run: 3 });
    expect(await cached('globex')).toEqual({ tenant: 'globex', id: '7', run: 2 });

    const first = runAs('acme', () => data.profile('1'));
    nest.get(Group).forget('TenantData.profile:@acme:1');
    const second = runAs('acme', () => data.profile('1'));
    data.gate.resolve();
    await Promise.all([first, second]);
    expect(data.runs).toEqual(['acme/1', 'acme/1']);
  });
});

describe('a keyContext that fails', () => {
  async function bootWith(keyContext: () => unknown) {
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ keyContext: keyContext as () => string })],
      providers: [TenantData, { provide: CURRENT_TENANT, useValue: () => 'acme' }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app.get(TenantData);
  }

  it('a throw fails the call with a SingleflightKeyError naming the method; nothing runs', async () => {
    const data = await bootWith(() => {
      throw new Error('no tenant in this request');
    });
    data.gate.resolve();
    const error = await data.profile('1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SingleflightKeyError);
    expect((error as Error).message).toMatch(
      /^The module's keyContext threw during a call of TenantData\.profile/,
    );
    expect((error as Error).cause).toEqual(new Error('no tenant in this request'));
    await expect(data.push('9', 'v1')).rejects.toThrow(/keyContext threw.*TenantData\.push/);
    expect([data.runs, data.pushed]).toEqual([[], []]);
    // The opt-out does not read the context.
    await expect(data.rates()).resolves.toEqual({ eur: 1.1, runs: 1 });
  });

  it.each([[42], [null], [{ tenant: 'acme' }]])(
    'a value that is not a string (%p) fails the call the same way',
    async (value) => {
      const data = await bootWith(() => value);
      const error = await data.cached('1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SingleflightKeyError);
      expect((error as Error).message).toMatch(
        /keyContext must return a string or undefined.*TenantData\.cached/,
      );
      await expect(data.push('9', 'v1')).rejects.toThrow(SingleflightKeyError);
      expect(data.pushed).toEqual([]);
    },
  );
});

describe('keyContext across instances (Redis)', () => {
  let server: RedisServer | undefined;
  const clients: ReturnType<typeof createClient>[] = [];
  const apps: INestApplication[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((nest) => nest.close()));
    for (const client of clients) client.destroy();
    await server?.stop();
  });

  async function instance() {
    const client = createClient({ url: server!.url, disableOfflineQueue: true });
    await client.connect();
    clients.push(client);
    const { nest, runAs } = await withAsyncLocalStorage({
      redis: { client, namespace: 'key-context-test' },
    });
    await nest.init();
    apps.push(nest);
    return { data: nest.get(TenantData), runAs };
  }

  it("shares a tenant's flight across instances, never another tenant's", async () => {
    server = await startRedis();
    const [a, b] = [await instance(), await instance()];
    const first = a.runAs('acme', () => a.data.profile('1'));
    await until(() => a.data.runs.length === 1);
    // b's acme call finds a's flight through Redis; its globex call must not.
    const same = b.runAs('acme', () => b.data.profile('1'));
    const other = b.runAs('globex', () => b.data.profile('1'));
    await until(() => b.data.runs.length === 1);
    a.data.gate.resolve();
    b.data.gate.resolve();
    expect(await Promise.all([first, same, other])).toEqual([
      { tenant: 'acme', id: '1' },
      { tenant: 'acme', id: '1' },
      { tenant: 'globex', id: '1' },
    ]);
    expect([a.data.runs, b.data.runs]).toEqual([['acme/1'], ['globex/1']]);
  });
});
