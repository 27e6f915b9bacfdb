import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SingleflightOptionsError } from '../../../lib/core/index.js';
import { DistributedFlight, type DistributedFlightOptions } from '../../../lib/redis/index.js';
import { FORMAT } from '../../../lib/redis/shared/result-codec.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { type TestClient, connectCoordinator } from '../../support/redis-coordinator.js';

// Issue 12 item 8: what Redis is trusted with. A Redis writer (here a raw client) plants result
// envelopes; with a secret they are refused and the caller runs the work itself.

const SECRET = 'a-secret-of-32-characters-000000';

let server: RedisServer;
let raw: TestClient;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await startRedis();
  raw = (await connectCoordinator(server.url)).client;
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  await raw.flushAll();
});
afterAll(async () => {
  raw?.destroy();
  await server?.stop();
});

interface Instance {
  flight: DistributedFlight;
  logs: string[];
}

async function instance(options: DistributedFlightOptions = {}): Promise<Instance> {
  const connection = await connectCoordinator(server.url);
  const logs: string[] = [];
  const flight = new DistributedFlight(
    connection.coordinator,
    { namespace: 'trust', resultTtlMs: 60_000, ...options },
    (message) => logs.push(message),
  );
  await flight.init();
  cleanups.push(async () => {
    await flight.close();
    await connection.close();
  });
  return { flight, logs };
}

/** The Redis key of `key`'s result, found by running a real flight of it once. */
async function resultKey(flight: DistributedFlight, key: string): Promise<string> {
  await flight.run(key, async () => 'genuine');
  const keys = await raw.keys('trust:*:res');
  const found = [];
  for (const k of keys) if ((await raw.get(k))?.includes('"genuine"')) found.push(k);
  expect(found).toHaveLength(1);
  // A genuine result of this key is there now; the tests overwrite it.
  await raw.del(found[0]!);
  return found[0]!;
}

const forgedValue = JSON.stringify({ f: FORMAT, t: 'forger', ok: 1, v: { user: 'mallory' } });
const forgedError = JSON.stringify({
  f: FORMAT,
  t: 'forger',
  ok: 0,
  e: { name: 'Error', message: 'forged', status: 200, httpException: true, response: 'hi' },
});

describe('result envelopes written by someone else', () => {
  it('without a secret, a forged result is served: Redis is trusted (see the README)', async () => {
    const { flight } = await instance();
    const res = await resultKey(flight, 'k');
    await raw.set(res, forgedValue);
    await expect(flight.run('k', async () => 'work')).resolves.toEqual({ user: 'mallory' });
  });

  it('with a secret, ignores a forged recent result: counted, logged once, run locally', async () => {
    const { flight, logs } = await instance({ secret: SECRET });
    const res = await resultKey(flight, 'k');
    const ran: string[] = [];
    for (const forged of [forgedValue, `${'0'.repeat(64)}.${forgedValue}`]) {
      await raw.set(res, forged);
      const expected = ran.length + 1;
      await expect(flight.run('k', async () => ran.push('work'))).resolves.toBe(expected);
    }
    expect(ran).toHaveLength(2);
    expect(flight.stats()).toMatchObject({ rejectedEnvelopes: 2, localFallbacks: 2 });
    expect(logs.filter((line) => line.includes('was ignored'))).toEqual([
      expect.stringContaining('its HMAC does not verify'),
    ]);
  });

  it('with a secret, a follower ignores a forged error announced by a forged leader', async () => {
    const { flight } = await instance({ secret: SECRET, reuseRecentResult: false });
    const res = await resultKey(flight, 'k');
    // A forged leader holds the lease, its "result" is in place, and the wake-up is published.
    await raw.set(res.replace(/:res$/, ':lock'), 'forger', { PX: 10_000 });
    await raw.set(res, forgedError);
    await expect(flight.run('k', async () => 'work')).resolves.toBe('work');
    expect(flight.stats()).toMatchObject({ follower: 1, rejectedEnvelopes: 1, localFallbacks: 1 });
  });

  it("with a secret, refuses a genuine result copied to another key's place", async () => {
    const { flight } = await instance({ secret: SECRET });
    const alice = await resultKey(flight, 'user:alice');
    const bob = await resultKey(flight, 'user:bob');
    await flight.run('user:alice', async () => ({ user: 'alice' }));
    await raw.set(bob, (await raw.get(alice))!);
    await expect(flight.run('user:bob', async () => ({ user: 'bob' }))).resolves.toEqual({
      user: 'bob',
    });
    expect(flight.stats().rejectedEnvelopes).toBe(1);
  });

  it('shares results between instances with the same secret, not with another one', async () => {
    const a = await instance({ secret: SECRET });
    const b = await instance({ secret: SECRET });
    const other = await instance({ secret: `${SECRET}-rotated` });
    await expect(a.flight.run('k', async () => 'from a')).resolves.toBe('from a');
    await expect(b.flight.run('k', async () => 'from b')).resolves.toBe('from a');
    await expect(other.flight.run('k', async () => 'from other')).resolves.toBe('from other');
    expect(b.flight.stats()).toMatchObject({ reused: 1, rejectedEnvelopes: 0 });
    expect(other.flight.stats().rejectedEnvelopes).toBe(1);
  });

  it.each([
    ['without', {}],
    ['with', { secret: SECRET }],
  ])(
    '%s a secret, ignores an envelope above maxResultBytes before parsing it',
    async (_, secret) => {
      const { flight, logs } = await instance({ ...secret, maxResultBytes: 1024 });
      const res = await resultKey(flight, 'k');
      await raw.set(res, JSON.stringify({ f: FORMAT, t: 'x', ok: 1, v: 'x'.repeat(1 << 20) }));
      await expect(flight.run('k', async () => 'work')).resolves.toBe('work');
      expect(flight.stats()).toMatchObject({ rejectedEnvelopes: 1, localFallbacks: 1 });
      expect(logs).toEqual([expect.stringContaining('larger than maxResultBytes')]);
    },
  );

  it('refuses a secret shorter than 16 characters at construction', async () => {
    const connection = await connectCoordinator(server.url);
    cleanups.push(() => connection.close());
    for (const secret of ['short', 42, '']) {
      expect(() => new DistributedFlight(connection.coordinator, { secret } as never)).toThrow(
        SingleflightOptionsError,
      );
    }
  });
});
