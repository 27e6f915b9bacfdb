import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SingleflightArgumentError,
  SingleflightOptionsError,
} from '../../../lib/core/singleflight.errors.js';
import type {
  DistributedWriteOptions,
  WriteLedger,
  WriteRunContext,
} from '../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { EVENT } from '../../../lib/redis/writes/write.scripts.js';
import { deferred } from '../../support/deferred.js';
import { until } from '../../support/until.js';
import {
  type EventRecord,
  eventually,
  privateFleet,
  redisKeys,
  redisState,
  storedForm,
} from '../../support/write-fleet.js';

// What each push carries: `version(args)` so the newest arguments win whatever order the events
// arrive in, the ledger seeing the arguments of every push, and the events owed to Redis after
// an outage or a lost state. Several groups in one process (= pods), each test its own
// redis-server.

jest.setTimeout(20_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Pushed {
  pod: string;
  args: unknown[];
  fence: number;
}

async function setup(pods: number, options: DistributedWriteOptions = {}) {
  const events: EventRecord[] = [];
  const { redis, raw, groups } = await privateFleet(
    pods,
    'v',
    { breakerMs: 300, ...options },
    cleanups,
    (event) => events.push(event),
  );
  const pushed: Pushed[] = [];
  const push =
    (pod: string, gate?: Promise<void>) =>
    async (args: unknown[], { fence }: WriteRunContext): Promise<string> => {
      pushed.push({ pod, args, fence });
      if (gate !== undefined && pushed.length === 1) await gate;
      return pod;
    };
  const state = (key: string) => redisState(raw.client, 'v', key);
  return { redis, raw, groups, events, pushed, push, state };
}

const version = ([v]: [number]) => v;

describe('version(args)', () => {
  it('the highest version is pushed, whatever order the events reach Redis in', async () => {
    const { groups, events, pushed, push, state } = await setup(3);
    const [a, b, c] = groups;
    const gate = deferred();
    const first = a!.do('k', push('a', gate.promise), { args: [1] as [number], version });
    await until(() => pushed.length === 1);
    // Version 5 reaches Redis first, then version 3 (sent later, from another pod).
    const newer = b!.do('k', push('b'), { args: [5] as [number], version });
    await until(() => events.some((e) => e.json === '[5]'));
    const older = c!.do('k', push('c'), { args: [3] as [number], version });
    await until(() => events.some((e) => e.json === '[3]'));
    gate.resolve();
    await Promise.all([first, newer, older]);
    expect(pushed.map((p) => p.args)).toEqual([[1], [5]]);
    expect(await state('k')).toMatchObject({ args: [5], leased: false });
  });

  it('without it, the event that reaches Redis last wins (the documented default)', async () => {
    const { groups, events, pushed, push } = await setup(3);
    const [a, b, c] = groups;
    const gate = deferred();
    const first = a!.do('k', push('a', gate.promise), { args: [1] });
    await until(() => pushed.length === 1);
    const newer = b!.do('k', push('b'), { args: [5] });
    await until(() => events.some((e) => e.json === '[5]'));
    const older = c!.do('k', push('c'), { args: [3] });
    await until(() => events.some((e) => e.json === '[3]'));
    gate.resolve();
    await Promise.all([first, newer, older]);
    expect(pushed.map((p) => p.args)).toEqual([[1], [3]]);
  });

  it('in-process calls merged into one push push the highest version', async () => {
    const { redis, groups, pushed, push } = await setup(1);
    await redis.kill();
    const gate = deferred();
    const calls = [
      groups[0]!.do('k', push('a', gate.promise), { args: [1] as [number], version }),
      groups[0]!.do('k', push('a'), { args: [9] as [number], version }),
      groups[0]!.do('k', push('a'), { args: [4] as [number], version }),
    ];
    await until(() => pushed.length === 1);
    gate.resolve();
    await Promise.all(calls);
    expect(pushed.map((p) => p.args)).toEqual([[1], [9]]);
  });

  it('a version that is not a finite number fails the call with a named error', async () => {
    const { groups, push } = await setup(1);
    const call = (v: unknown) =>
      groups[0]!.do('user:1', push('a'), { args: [1], version: () => v as number });
    for (const bad of [Number.NaN, Infinity, '3', undefined]) {
      const error = await call(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SingleflightArgumentError);
      expect((error as Error).message).toContain('"user:1"');
    }
    const thrown = new Error('no version');
    await expect(
      groups[0]!.do('k', push('a'), {
        args: [1],
        version: () => {
          throw thrown;
        },
      }),
    ).rejects.toBe(thrown);
    await expect(
      groups[0]!.do('k', push('a'), { args: [1], version: 3 as never }),
    ).rejects.toBeInstanceOf(SingleflightOptionsError);
    await expect(
      groups[0]!.do('k', push('a'), { args: [1], versoin: version } as never),
    ).rejects.toBeInstanceOf(SingleflightOptionsError);
  });
});

describe('the ledger sees what each push carries', () => {
  it('started/finished get the fence and the arguments, for fleet and in-process pushes', async () => {
    const calls: [string, string, number, unknown[]][] = [];
    const ledger: WriteLedger = {
      started: async (key, fence, args) => void calls.push(['started', key, fence, args]),
      finished: async (key, fence, args) => void calls.push(['finished', key, fence, args]),
      async *pending() {},
    };
    const { redis, groups, pushed, push } = await setup(1, { ledger });
    await groups[0]!.do('k', push('a'), { args: [1] });
    await redis.kill();
    await groups[0]!.do('k', push('a'), { args: [2] });
    expect(pushed.map((p) => p.args)).toEqual([[1], [2]]);
    const [fleet, local] = pushed;
    expect(calls).toEqual([
      ['started', 'k', fleet!.fence, [1]],
      ['finished', 'k', fleet!.fence, [1]],
      ['started', 'k', local!.fence, [2]],
      ['finished', 'k', local!.fence, [2]],
    ]);
    expect(local!.fence).toBeGreaterThan(fleet!.fence);
  });
});

describe('events owed to Redis', () => {
  it('Redis frozen: an older event executed on thaw is not the last push; the newest is, with no next event', async () => {
    const { redis, raw, groups, pushed, push, state } = await setup(1, {
      leaseMs: 400,
      sweepEveryMs: 100,
    });
    redis.freeze();
    // Another pod's event for version 1, sent to the frozen server: Redis runs it on thaw, and
    // that pod is gone (its lease runs out, nobody pushes it but a recovery).
    const { lease, st } = redisKeys('v', 'k');
    const queued = raw.client.eval(EVENT.source, {
      keys: [lease, st],
      arguments: ['gone', '400', storedForm([1]), 'k', '600000', '1', '1'],
    });
    // Version 2 on this pod times out against the frozen server: pushed in-process.
    await groups[0]!.do('k', push('a'), { args: [2] as [number], version });
    expect(groups[0]!.stats().localFallbacks).toBe(1);
    redis.thaw();
    await queued;
    await eventually(async () => {
      const s = await state('k');
      return s.done === s.ver && !s.leased && pushed.length >= 2;
    });
    await sleep(600); // a lease and a few sweeps: nothing older lands after
    const last = pushed.at(-1)!;
    expect(pushed.map((p) => p.args)).not.toContainEqual([1]);
    expect(last.args).toEqual([2]);
    expect(last.fence).toBe(Math.max(...pushed.map((p) => p.fence)));
    expect(await state('k')).toMatchObject({ args: [2] });
  });

  it('FLUSHALL under waiting callers: their events go to Redis again, none runs in-process', async () => {
    const { raw, groups, pushed, push, state } = await setup(2, {
      leaseMs: 400,
      recoverSlackMs: 10,
    });
    const [a, b] = groups;
    const gate = deferred();
    const first = a!.do('k', push('a', gate.promise), { args: [1] as [number], version });
    await until(() => pushed.length === 1);
    const waiting = b!.do('k', push('b'), { args: [2] as [number], version });
    await until(() => b!.stats().events === 1);
    await raw.client.flushAll();
    gate.resolve();
    await expect(first).resolves.toBe('a');
    await expect(waiting).resolves.not.toBeInstanceOf(Error);
    expect(a!.stats().localFallbacks + b!.stats().localFallbacks).toBe(0);
    expect(pushed.at(-1)!.args).toEqual([2]);
    await eventually(async () => {
      const s = await state('k');
      return s.done === s.ver && !s.leased;
    });
  });

  it('FLUSHALL during a push: a caller waiting for its follow-up is covered, not left to time out', async () => {
    const { raw, groups, pushed, push } = await setup(1, { leaseMs: 400, waitTimeoutMs: 5_000 });
    const gate = deferred();
    const first = groups[0]!.do('k', push('a', gate.promise), { args: [1] as [number], version });
    await until(() => pushed.length === 1);
    const second = groups[0]!.do('k', push('a'), { args: [2] as [number], version });
    await until(() => groups[0]!.stats().events === 2);
    await raw.client.flushAll();
    gate.resolve();
    await first;
    await expect(second).resolves.toBe('a');
    expect(pushed.at(-1)!.args).toEqual([2]);
    expect(groups[0]!.stats()).toMatchObject({ localFallbacks: 0, timeouts: 0 });
  });
});
