import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedWriteGroup } from '../../../lib/redis/writes/distributed-write-group.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { until } from '../../support/until.js';
import {
  type Connection,
  type EventRecord,
  Downstream,
  connect,
  redisState,
} from '../../support/write-fleet.js';
import { prng } from '../../support/prng.js';

// Random bursts of events on two keys across three pods (DistributedWriteGroups with their own
// Redis connections) against a real redis-server, replayed from a fixed seed. Pushes take a
// random 1-12 ms and, in some runs, fail one time in five (retried through RECOVER).

jest.setTimeout(60_000);

const PODS = 3;
let redis: RedisServer;
let connections: Connection[] = [];
let events: EventRecord[] = [];
let runs = 0;

beforeAll(async () => {
  redis = await startRedis();
  connections = await Promise.all(
    Array.from({ length: PODS }, () => connect(redis.url, { onEvent: (e) => events.push(e) })),
  );
});

afterAll(async () => {
  for (const connection of connections) await connection.close();
  await redis?.stop();
});

const burst = fc.record({
  events: fc.array(
    fc.record({ pod: fc.nat(PODS - 1), key: fc.constantFrom('a', 'b'), gapMs: fc.nat(8) }),
    { minLength: 1, maxLength: 20 },
  ),
  seed: fc.integer(),
  failRate: fc.constantFrom(0, 0, 0.2),
});

describe('DistributedWriteGroup, property over random bursts (3 pods, real Redis)', () => {
  it('one push per key at a time fleet-wide, newest state last, writes in order, every caller settles', async () => {
    await fc.assert(
      fc.asyncProperty(burst, async ({ events: plan, seed, failRate }) => {
        const namespace = `prop${++runs}`;
        events = [];
        const random = prng(seed);
        const down = new Downstream();
        const groups = connections.map(
          (c) =>
            new DistributedWriteGroup(
              c.coordinator,
              { namespace, sweepEveryMs: 0, retry: { attempts: 20, backoffMs: 5 } },
              () => {},
            ),
        );
        await Promise.all(groups.map((g) => g.init()));
        try {
          const calls: Promise<unknown>[] = [];
          let seq = 0;
          for (const { pod, key, gapMs } of plan) {
            if (gapMs > 0) await sleep(gapMs);
            const push = down.push(
              `p${pod}`,
              () => 1 + Math.floor(random() * 12),
              () => random() < failRate,
            );
            calls.push(groups[pod]!.do(key, push, { args: [++seq] }));
          }

          // Every caller settles (bounded), and only with the downstream's own error.
          let timer: NodeJS.Timeout | undefined;
          const outcomes = await Promise.race([
            Promise.allSettled(calls),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error('a caller never settled')), 10_000);
            }),
          ]);
          clearTimeout(timer);
          for (const outcome of outcomes) {
            if (outcome.status === 'rejected') {
              expect(String(outcome.reason)).toContain('downstream refused');
            }
          }
          // Retries of failed pushes may still be under way: wait until no pod holds anything.
          await until(() => groups.every((g) => g.stats().size === 0), 10_000);

          expect(down.maxConcurrent).toBe(1);
          for (const key of new Set(plan.map((e) => e.key))) {
            const mine = events.filter((e) => e.key === key);
            const verOf = new Map(mine.map((e) => [e.json, e.ver]));
            const newest = mine.reduce((a, b) => (b.ver > a.ver ? b : a));
            const writes = down.of(key);
            // The final push carries the newest event, and pushes never go back in time.
            expect(JSON.stringify(writes.at(-1)!.args)).toBe(newest.json);
            const vers = writes.map((w) => verOf.get(JSON.stringify(w.args))!);
            expect(vers).toEqual([...vers].sort((x, y) => x - y));
            const state = await redisState(connections[0]!.client, namespace, key);
            expect(state).toMatchObject({ done: state.ver, leased: false });
            expect(JSON.stringify(state.args)).toBe(newest.json);
          }
          for (const group of groups) expect(group.stats().waiting).toBe(0);
        } finally {
          await Promise.all(groups.map((g) => g.close()));
        }
      }),
      { seed: 20_260_801, numRuns: 40 },
    );
  });
});
