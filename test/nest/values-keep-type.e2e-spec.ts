import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import { createClient } from 'redis';
import { SingleFlight, SingleflightModule } from '../../lib/index.js';
import type { RedisCoordination } from '../../lib/nest/redis-coordination.js';
import { REDIS_COORDINATION } from '../../lib/nest/singleflight.constants.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { warningsOf } from '../support/nest-app.js';
import { Money, money } from '../support/money.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';

// Issue 14, "Values keep their type": a Date came back as a string once it crossed Redis (a
// follower on another instance, or a cached read after a restart). Now the leader, a follower on
// another instance and a later cached read on a fresh app get the same type and value.

/** A class with no codec: its instances cannot be stored nor shared. */
class Session {
  constructor(readonly user: string) {}
}

const VALUES: Record<string, () => unknown> = {
  Date: () => new Date('2026-01-02T03:04:05.678Z'),
  Map: () =>
    new Map<unknown, unknown>([
      ['eu', 1],
      [2n, { at: new Date(0) }],
    ]),
  Set: () => new Set(['a', 1, null]),
  BigInt: () => 2n ** 70n,
  Buffer: () => Buffer.from('a token, not text: \u0000\u00ff'),
  'typed arrays': () => [new Uint8Array([1, 2, 255]), new Float64Array([0.5, -0])],
  'undefined inside objects and arrays': () => ({ kept: undefined, list: [undefined, 1] }),
  '-0, NaN and Infinity': () => [-0, NaN, Infinity, -Infinity],
  'an instance of a class with a codec': () => ({ price: new Money(1999n, 'EUR') }),
  'a string that looks like a Date': () => '2026-01-02T03:04:05.678Z',
};

let runs = 0;
let gate: Deferred<void> | undefined;

@Injectable()
class Values {
  @SingleFlight((name: string) => name, { ttl: 60_000 })
  async get(name: string): Promise<unknown> {
    runs++;
    await gate?.promise;
    return name === 'Session' ? new Session('ada') : VALUES[name]!();
  }
}

let server: RedisServer;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  server = await startRedis();
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  runs = 0;
  gate = undefined;
});
afterAll(async () => {
  await server?.stop();
});

/** One instance of the app: a Redis flight and a Redis cache store, with the Money codec. */
async function instance(namespace: string): Promise<{
  app: INestApplication;
  values: Values;
  flights: NonNullable<RedisCoordination['flights']>;
}> {
  const client = createClient({ url: server.url, disableOfflineQueue: true });
  await client.connect();
  const moduleRef = await Test.createTestingModule({
    imports: [
      SingleflightModule.forRoot({
        codecs: [money],
        // A result stays in Redis for the whole test: which instance leads never depends on time.
        redis: { client, namespace, flights: { resultTtlMs: 60_000 } },
        cache: { stores: [new Keyv({ store: new KeyvRedis(client as never), namespace })] },
      }),
    ],
    providers: [Values],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  closers.push(async () => {
    await app.close();
    client.destroy();
  });
  await app.init();
  const flights = app.get<RedisCoordination>(REDIS_COORDINATION).flights!;
  return { app, values: app.get(Values), flights };
}

type Instance = Awaited<ReturnType<typeof instance>>;

/** The leader on `a` and a follower on `b`, waiting for it; then both answers. */
async function leaderAndFollower(a: Instance, b: Instance, name: string) {
  gate = deferred();
  const leading = a.values.get(name);
  await until(() => a.flights.stats().leader === 1);
  const following = b.values.get(name);
  await until(() => b.flights.stats().follower === 1);
  gate.resolve();
  return { fromLeader: await leading, fromFollower: await following };
}

describe('values keep their type through Redis (flights and the cache store)', () => {
  it.each(Object.keys(VALUES))(
    '%s: the leader, a follower on another instance and a cached read on a fresh app',
    async (name) => {
      const namespace = `types-${Object.keys(VALUES).indexOf(name)}`;
      const expected = VALUES[name]!();
      const [a, b] = [await instance(namespace), await instance(namespace)];
      const { fromLeader, fromFollower } = await leaderAndFollower(a, b, name);
      // A restart: a new app with nothing in memory reads the value from the Redis store.
      const fromCache = await (await instance(namespace)).values.get(name);

      expect(runs).toBe(1);
      // toStrictEqual compares prototypes (a Date is not its ISO string), -0, NaN, undefined keys.
      for (const got of [fromLeader, fromFollower, fromCache]) expect(got).toStrictEqual(expected);
      if (name.includes('codec')) {
        expect((fromCache as { price: Money }).price.format()).toBe('1999 EUR');
      }
    },
  );

  it('does not cache nor share an instance of a class without a codec; every call still gets it', async () => {
    const [a, b, fresh] = [
      await instance('no-codec'),
      await instance('no-codec'),
      await instance('no-codec'),
    ];
    const warnings = warningsOf(fresh.app);
    const { fromLeader, fromFollower } = await leaderAndFollower(a, b, 'Session');

    // The follower ran the work itself, and the value was not cached: the fresh app runs it too.
    expect(fromLeader).toEqual(new Session('ada'));
    expect(fromLeader).toBeInstanceOf(Session);
    expect(fromFollower).toBeInstanceOf(Session);
    await expect(fresh.values.get('Session')).resolves.toBeInstanceOf(Session);
    expect(runs).toBe(3);
    expect(a.flights.stats().unshareable).toBe(1);
    expect(b.flights.stats().localFallbacks).toBe(1);

    // Said once per app (one line per method and engine), however many calls.
    await a.values.get('Session');
    await a.values.get('Session');
    expect(runs).toBe(5);
    const said = (text: string) => warnings.filter((w) => w.includes(text));
    expect(said('was not cached')).toHaveLength(3); // a, b and fresh: once each
    expect(said('was not cached')[0]).toMatch(/an instance of Session.*codec \(`codecs`\)/);
    // By a, the leader, once: the others found its `skip` in Redis and ran the work themselves.
    expect(said('was not shared')).toHaveLength(1);
    expect(said('was not shared')[0]).toMatch(/an instance of Session/);
  });
});
