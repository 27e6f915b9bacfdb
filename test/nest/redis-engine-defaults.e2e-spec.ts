import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type Type } from '@nestjs/common';
import { createClient } from 'redis';
import { SingleFlight } from '../../lib/index.js';
import { type RedisApp, startRedisApp } from '../support/nest-redis-app.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

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

const SECRET = 'a-secret-of-32-characters-000000';

// Engine options are often spread from configuration, where a setting left unset is there as
// `undefined`. Such a `flights.namespace` replaced the module's `<namespace>:sf` by the engine's
// own default, `sf`: two apps on one Redis then shared flights and recent results (app two's
// caller got 'one:7'), and an undefined `flights.secret` dropped the module's secret.
describe('redis.flights and redis.writes options given as undefined', () => {
  it("take the module's namespace and secret, as if left out", async () => {
    const start = async (namespace: string, provider: Type) => {
      const app = await startRedisApp(
        server.url,
        {
          namespace,
          secret: SECRET,
          flights: { namespace: undefined, secret: undefined },
          writes: { namespace: undefined },
        },
        { providers: [provider] },
      );
      open.push(app);
      return app.app.get(provider) as { get(id: string): Promise<string> };
    };
    const [One, Two] = [catalogOf('one'), catalogOf('two')];
    const one = await start('app-one', One);
    const two = await start('app-two', Two);
    await expect(one.get('7')).resolves.toBe('one:7');
    await expect(two.get('7')).resolves.toBe('two:7');
    expect(calls).toEqual(['one', 'two']);

    const raw = await createClient({ url: server.url }).connect();
    try {
      const results = await raw.keys('app-one:sf:*:res');
      expect(results).toHaveLength(1);
      // Sealed with the module's secret: an HMAC-SHA256 in hex, then the envelope.
      expect(await raw.get(results[0]!)).toMatch(/^[0-9a-f]{64}\./);
      expect(await raw.keys('sf:*')).toEqual([]);
    } finally {
      raw.destroy();
    }
  });
});
