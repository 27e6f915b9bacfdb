import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { DistributedWriteOptions } from '../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { localFence, observeFence } from '../../../lib/redis/writes/write-fence.js';
import { eventually, privateFleet, redisKeys, redisState } from '../../support/write-fleet.js';

// Fences across the faults that make Redis lose a key's state: the server killed and restarted
// empty (no persistence), and FLUSHALL. Each test has its own redis-server.

jest.setTimeout(20_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Pushed {
  args: unknown[];
  fence: number;
  /** Whether the push ran through Redis (the key's state holds its fence) or in-process. */
  fleet: boolean;
}

async function setup(pods: number, options: DistributedWriteOptions = {}) {
  const { redis, raw, groups } = await privateFleet(
    pods,
    'f',
    { breakerMs: 200, ...options },
    cleanups,
  );
  const pushed: Pushed[] = [];
  /** One call on pod `i`; resolves with what its push got. */
  const call = async (i: number, key: string, args: unknown[]): Promise<Pushed> => {
    const before = groups[i]!.stats().localFallbacks;
    let got: Pushed | undefined;
    await groups[i]!.do(
      key,
      async (pushedArgs, { fence }) => {
        got = { args: pushedArgs, fence, fleet: false };
      },
      { args: args },
    );
    got!.fleet = groups[i]!.stats().localFallbacks === before;
    pushed.push(got!);
    return got!;
  };
  /** Calls until one runs through Redis again (after a restart, the breaker and the reconnect). */
  const fleetCall = async (i: number, key: string, args: unknown[]) => {
    let got: Pushed | undefined;
    await eventually(async () => (got = await call(i, key, args)).fleet, 10_000);
    expect((await redisState(raw.client, 'f', key)).fence).toBe(got!.fence);
    return got!;
  };
  return { redis, raw, groups, pushed, call, fleetCall };
}

const maxFence = (list: Pushed[]) => Math.max(...list.map((p) => p.fence));

describe('fences stay monotonic when Redis loses its state', () => {
  it('Redis killed and restarted empty: the next fence of every key is above all before', async () => {
    const { redis, raw, pushed, call, fleetCall } = await setup(2);
    for (let i = 0; i < 12; i++) await call(i % 2, `k${i % 3}`, [i]);
    expect(pushed.every((p) => p.fleet)).toBe(true);
    const before = pushed.splice(0);
    await raw.client.set('marker', '1');

    await redis.kill();
    // During the outage: in-process pushes, fenced above every fleet fence this pod saw.
    const outage = [await call(0, 'k0', ['down']), await call(1, 'k1', ['down'])];
    expect(outage.every((p) => !p.fleet)).toBe(true);
    expect(Math.min(...outage.map((p) => p.fence))).toBeGreaterThan(maxFence(before));

    await redis.restart();
    await eventually(async () => raw.client.isReady, 10_000);
    expect(await raw.client.exists('marker')).toBe(0); // restarted empty
    const after = [
      await fleetCall(0, 'k0', ['up']),
      await fleetCall(1, 'k1', ['up']),
      await fleetCall(0, 'k2', ['up']),
    ];
    expect(Math.min(...after.map((p) => p.fence))).toBeGreaterThan(
      Math.max(maxFence(before), maxFence(outage)),
    );
    for (const p of [...before, ...outage, ...after])
      expect(Number.isSafeInteger(p.fence)).toBe(true);
  });

  it('FLUSHALL: the next fence of the key is above all before, and grows from there', async () => {
    const { raw, call } = await setup(2);
    const before: Pushed[] = [];
    for (let i = 0; i < 6; i++) before.push(await call(i % 2, 'k', [i]));
    await raw.client.flushAll();
    const after: Pushed[] = [];
    for (let i = 0; i < 6; i++) after.push(await call(i % 2, 'k', [i]));
    expect([...before, ...after].every((p) => p.fleet)).toBe(true);
    const fences = [...before, ...after].map((p) => p.fence);
    fences.reduce((a, b) => (expect(b).toBeGreaterThan(a), b));
  });

  it('a fence already ahead of the clock keeps growing by one, never back to the clock', async () => {
    const { raw, call } = await setup(1);
    await call(0, 'k', [1]);
    // A key whose fences ran ahead (as a key pushed more than once per microsecond would).
    const ahead = (Date.now() + 60_000) * 1000;
    await raw.client.hSet(redisKeys('f', 'k').st, 'fence', String(ahead));
    const next = await call(0, 'k', [2]);
    expect(next).toMatchObject({ fleet: true, fence: ahead + 1 });
  });
});

describe('in-process fences', () => {
  afterEach(() => void jest.useRealTimers());

  it('grow strictly even while the clock stands still, and pass every fleet fence seen', () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const first = localFence();
    expect(first).toBeGreaterThanOrEqual(Date.parse('2030-01-01T00:00:00Z') * 1000);
    expect(localFence()).toBe(first + 1);
    // A fleet fence from a Redis whose clock runs 5 s ahead of this instance's.
    const fleet = first + 5_000_000;
    observeFence(fleet);
    expect(localFence()).toBe(fleet + 1);
    observeFence(first); // an older one changes nothing
    expect(localFence()).toBe(fleet + 2);
  });
});
