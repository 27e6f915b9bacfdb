import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SingleflightOptionsError } from '../../../lib/core/index.js';
import { DistributedFlight, DistributedWriteGroup } from '../../../lib/redis/index.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { connectCoordinator } from '../../support/redis-coordinator.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

// Redis keeps an expiry as a 64-bit integer of ms, and the engines send their TTLs as the
// decimal text of a JS number. A TTL past 2^53 - 1 (1e19, 1e300) was taken at construction and
// refused by Redis on every flight or write, which then ran in each instance alone, with a
// warning that blamed Redis being unreachable.
describe('TTLs the engines keep in Redis', () => {
  it.each([
    ['1e19', 1e19],
    ['1e300', 1e300],
    ['2^53', 2 ** 53],
  ])(
    'a resultTtlMs or stateTtlMs of %s fails at construction, saying the maximum',
    async (_, ttl) => {
      const { coordinator, close } = await connectCoordinator(redis.url);
      try {
        for (const make of [
          () => new DistributedFlight(coordinator, { namespace: 'ttl', resultTtlMs: ttl }),
          () => new DistributedWriteGroup(coordinator, { namespace: 'ttl', stateTtlMs: ttl }),
        ]) {
          expect(make).toThrow(SingleflightOptionsError);
          expect(make).toThrow(/TtlMs" .* 9007199254740991/);
        }
      } finally {
        await close();
      }
    },
  );

  it('the longest one Redis takes, 2^53 - 1 ms, works against a real server', async () => {
    const { coordinator, close } = await connectCoordinator(redis.url);
    const logs: string[] = [];
    const longest = Number.MAX_SAFE_INTEGER;
    const flight = new DistributedFlight(
      coordinator,
      { namespace: 'ttl-max', resultTtlMs: longest },
      (message) => logs.push(message),
    );
    const writes = new DistributedWriteGroup(
      coordinator,
      { namespace: 'ttl-max-mw', stateTtlMs: longest },
      (message) => logs.push(message),
    );
    try {
      await Promise.all([flight.init(), writes.init()]);
      await expect(flight.run('k', async () => 'v')).resolves.toBe('v');
      await expect(writes.do('k', async () => 'pushed')).resolves.toBe('pushed');
      expect(flight.stats().coordinationErrors).toBe(0);
      expect(logs).toEqual([]);
    } finally {
      await Promise.all([flight.close(), writes.close()]);
      await close();
    }
  });
});
