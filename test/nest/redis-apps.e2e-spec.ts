import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type Type } from '@nestjs/common';
import { createClient } from 'redis';
import { MergeWrites, SingleFlight, SingleflightOptionsError } from '../../lib/index.js';
import { Money, money } from '../support/money.js';
import { type RedisApp, startRedisApp } from '../support/nest-redis-app.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

// Issue 12 items 5 and 8: two different apps on one Redis, each with a class and method of the
// same name, never share flights or recent results; with a secret, no Redis writer forges one.

const calls: string[] = [];

/** An app's `Catalog`: the same class and method name in every app, a different answer. */
function catalogOf(app: string): Type<{ get(id: string): Promise<string> }> {
  @Injectable()
  class Catalog {
    @SingleFlight()
    async get(id: string): Promise<string> {
      calls.push(app);
      return `${app}:${id}`;
    }
  }
  return Catalog;
}

let server: RedisServer;
const open: RedisApp[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
  calls.length = 0;
});
afterAll(async () => {
  await server?.stop();
});

async function start(namespace: string | undefined, provider: Type): Promise<RedisApp> {
  const app = await startRedisApp(server.url, namespace === undefined ? {} : { namespace }, {
    providers: [provider],
  });
  open.push(app);
  return app;
}

describe('several apps on one Redis', () => {
  it('refuses `redis` without a namespace at start-up, and says how to set one', async () => {
    const failure = start(undefined, catalogOf('one'));
    await expect(failure).rejects.toThrow(SingleflightOptionsError);
    await expect(start(undefined, catalogOf('one'))).rejects.toThrow(
      /needs `namespace`.*namespace: 'orders-service'/s,
    );
  });

  it('gives each app its own flights and recent results; instances of one app share them', async () => {
    const [one, Two] = [catalogOf('one'), catalogOf('two')];
    const appOne = await start('app-one', one);
    const appOneAgain = await start('app-one', one);
    const appTwo = await start('app-two', Two);
    const get = (app: RedisApp, type: Type) =>
      (app.app.get(type) as { get(id: string): Promise<string> }).get('7');

    await expect(get(appOne, one)).resolves.toBe('one:7');
    // Within resultTtlMs, another instance of the same app reuses the result...
    await expect(get(appOneAgain, one)).resolves.toBe('one:7');
    // ...and the other app, with a class and method of the same name, computes its own.
    await expect(get(appTwo, Two)).resolves.toBe('two:7');
    expect(calls).toEqual(['one', 'two']);
    expect(appOneAgain.coordination.flights!.stats().reused).toBe(1);
    expect(appTwo.coordination.flights!.stats().reused).toBe(0);
  });

  it('with redis.secret, ignores a result forged in Redis and runs the work', async () => {
    const Catalog = catalogOf('one');
    const app = await startRedisApp(
      server.url,
      { namespace: 'signed', secret: 'a-secret-of-32-characters-000000' },
      { providers: [Catalog] },
    );
    open.push(app);
    const catalog = app.app.get(Catalog);
    await expect(catalog.get('7')).resolves.toBe('one:7');
    const raw = await createClient({ url: server.url }).connect();
    try {
      const [res] = await raw.keys('signed:sf:*:res');
      await raw.set(res!, JSON.stringify({ f: 2, t: 'x', ok: 1, v: 'forged' }));
    } finally {
      raw.destroy();
    }
    await expect(catalog.get('7')).resolves.toBe('one:7');
    expect(calls).toEqual(['one', 'one']);
    expect(app.coordination.flights!.stats().rejectedEnvelopes).toBe(1);
  });

  // Engine options are often spread from configuration, where a setting left unset is there as
  // `undefined`. Such a `flights.namespace` replaced the module's `<namespace>:sf` by the engine's
  // own default, `sf`: two apps on one Redis then shared flights and recent results (app two's
  // caller got 'one:7'), and an undefined `flights.secret` dropped the module's secret.
  it("keeps each app's namespace and secret when flights and writes options are given as undefined", async () => {
    const start = async (namespace: string, provider: Type) => {
      const app = await startRedisApp(
        server.url,
        {
          namespace,
          secret: 'a-secret-of-32-characters-000000',
          flights: { namespace: undefined, secret: undefined },
          writes: { namespace: undefined },
        },
        { providers: [provider] },
      );
      open.push(app);
      return app.app.get(provider) as { get(id: string): Promise<string> };
    };
    const [One, Two] = [catalogOf('one'), catalogOf('two')];
    const one = await start('unset-one', One);
    const two = await start('unset-two', Two);
    await expect(one.get('7')).resolves.toBe('one:7');
    await expect(two.get('7')).resolves.toBe('two:7');
    expect(calls).toEqual(['one', 'two']);

    const raw = await createClient({ url: server.url }).connect();
    try {
      const results = await raw.keys('unset-one:sf:*:res');
      expect(results).toHaveLength(1);
      // Sealed with the module's secret: an HMAC-SHA256 in hex, then the envelope.
      expect(await raw.get(results[0]!)).toMatch(/^[0-9a-f]{64}\./);
      expect(await raw.keys('sf:*')).toEqual([]);
    } finally {
      raw.destroy();
    }
  });

  it("passes the module's codecs and redis.secret to @MergeWrites(): typed, sealed arguments", async () => {
    const pushed: unknown[][] = [];
    @Injectable()
    class Prices {
      @MergeWrites((id: string) => id)
      async set(id: string, at: Date, price: Money): Promise<void> {
        pushed.push([id, at, price]);
      }
    }
    const app = await startRedisApp(
      server.url,
      { namespace: 'typed', secret: 'a-secret-of-32-characters-000000' },
      { providers: [Prices] },
      { codecs: [money] },
    );
    open.push(app);
    await app.app.get(Prices).set('p1', new Date(5), new Money(250n, 'EUR'));
    expect(pushed).toEqual([['p1', new Date(5), new Money(250n, 'EUR')]]);
    expect(pushed[0]![1]).toBeInstanceOf(Date);
    expect(pushed[0]![2]).toBeInstanceOf(Money);
    const raw = await createClient({ url: server.url }).connect();
    try {
      const [st] = await raw.keys('typed:mw:*:st');
      expect(await raw.hGet(st!, 'args')).toMatch(/^[0-9a-f]{64}\.\{"f":2,/);
    } finally {
      raw.destroy();
    }
  });

  it('takes the namespaces that flights and writes name themselves', async () => {
    const app = await startRedisApp(
      server.url,
      { flights: { namespace: 'own-sf' }, writes: false },
      { providers: [catalogOf('one')] },
    );
    open.push(app);
    expect(app.coordination.writes).toBeUndefined();
  });
});
