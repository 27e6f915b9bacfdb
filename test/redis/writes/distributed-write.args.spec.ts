import { describe, expect, it, jest } from '@jest/globals';
import { SingleflightArgumentError } from '../../../lib/core/singleflight.errors.js';
import { DistributedWriteGroup } from '../../../lib/redis/writes/distributed-write-group.js';
import type {
  DistributedWriteOptions,
  WriteRunContext,
} from '../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { deferred, rejectionOf } from '../../support/deferred.js';
import { Money, money } from '../../support/money.js';
import { sharedRedis } from '../../support/shared-redis.js';
import { until } from '../../support/until.js';
import {
  connect,
  eventually,
  redisKeys,
  redisState,
  startPod,
  storedForm,
} from '../../support/write-fleet.js';

// The arguments of distributed MergeWrites as they cross instances through Redis: in the codec of
// the cache and the flights, and sealed with the engine's `secret`. A raw client plays the Redis
// writer without the secret.

jest.setTimeout(20_000);

const SECRET = 'a-secret-of-32-characters-000000';

const suite = sharedRedis();
let namespaces = 0;

interface Engine {
  group: DistributedWriteGroup;
  logs: string[];
}

/** `n` engines on one namespace of one Redis, each with its own connection. */
async function engines(n: number, options: DistributedWriteOptions = {}) {
  const namespace = `args${++namespaces}`;
  const list: Engine[] = [];
  for (let i = 0; i < n; i++) {
    const logs: string[] = [];
    const log = (message: string) => logs.push(message);
    const { group } = await startPod(suite.redis.url, namespace, options, suite.cleanups, { log });
    list.push({ group, logs });
  }
  return { namespace, engines: list };
}

/** Pushes that record their arguments; the first one waits for `gate` when given. */
function recorder(gate?: Promise<void>) {
  const runs: unknown[][] = [];
  const run = async (args: unknown[], _context: WriteRunContext): Promise<string> => {
    runs.push(args);
    if (runs.length === 1 && gate) await gate;
    return `pushed ${runs.length}`;
  };
  return { runs, run };
}

/** Pending work of `key` in Redis with `args` stored as given, and nobody running it. */
async function planted(namespace: string, key: string, args: string): Promise<void> {
  await suite.raw.client.hSet(redisKeys(namespace, key).st, { ver: '1', done: '0', key, args });
}

const forgedArgs = storedForm(['mallory']);

/** A sweep of `group` that refuses the arguments of `key`: once the refusal has freed the lease. */
async function sweepRefusing(group: DistributedWriteGroup, namespace: string, key: string) {
  const before = group.stats().rejectedArgs;
  await group.sweep();
  await until(() => group.stats().rejectedArgs === before + 1);
  await eventually(async () => !(await redisState(suite.raw.client, namespace, key)).leased);
}

describe('arguments that cross instances', () => {
  for (const secret of [undefined, SECRET]) {
    it(`keep Dates, Maps, BigInts and classes with a codec (secret: ${secret !== undefined})`, async () => {
      const { engines: list } = await engines(2, { codecs: [money], secret });
      const [a, b] = list;
      const gate = deferred();
      const { runs, run } = recorder(gate.promise);
      // b pushes the key; a's call during that push is pushed by b's follow-up, with a's arguments
      // read from Redis.
      const first = b!.group.do('k', run, { args: [0] });
      await until(() => runs.length === 1);
      const sent = [new Date(1_700_000_000_123), new Map([['n', 1n]]), new Money(250n, 'EUR')];
      const second = a!.group.do('k', run, { args: sent });
      await until(() => a!.group.stats().waiting === 1);
      gate.resolve();
      await expect(first).resolves.toBe('pushed 1');
      await expect(second).resolves.toBeUndefined();
      expect(runs).toEqual([[0], sent]);
      const [date, map, cash] = runs[1]!;
      expect(date).toBeInstanceOf(Date);
      expect(map).toBeInstanceOf(Map);
      expect(cash).toBeInstanceOf(Money);
      expect((cash as Money).format()).toBe('250 EUR');
      expect(b!.group.stats()).toMatchObject({ runs: 2, followUps: 1, rejectedArgs: 0 });
    });
  }

  it('keep their types in an in-process push too (Redis not usable)', async () => {
    const connection = await connect(suite.redis.url);
    // Never initialized: its calls run in-process.
    const group = new DistributedWriteGroup(connection.coordinator, { namespace: 'local' });
    suite.cleanups.push(async () => {
      await group.close();
      await connection.close();
    });
    const { runs, run } = recorder();
    const sent = [new Date(0), new Set([1n])];
    await expect(group.do('k', run, { args: sent })).resolves.toBe('pushed 1');
    expect(runs).toEqual([sent]);
    expect(runs[0]![0]).toBeInstanceOf(Date);
    expect(group.stats().localFallbacks).toBe(1);
  });

  it('an instance of a class without a codec fails the call at once, named, never flattened', async () => {
    const { engines: list } = await engines(1);
    const { group } = list[0]!;
    const { runs, run } = recorder();
    // Plain data inside: JSON would have flattened it to { id: 'c1' } without a trace.
    class Customer {
      constructor(readonly id: string) {}
    }
    const error = await rejectionOf(
      group.do('order:1', run, { args: ['x', { owner: new Customer('c1') }] }),
    );
    expect(error).toBeInstanceOf(SingleflightArgumentError);
    expect((error as Error).message).toContain('"order:1"');
    expect((error as Error).message).toContain('argument 2 at .owner is an instance of Customer');
    expect((error as Error).message).toContain('`codecs`');
    expect(runs).toEqual([]);
    expect(group.stats()).toMatchObject({ calls: 0, events: 0 });
  });
});

describe('arguments written to Redis by someone else', () => {
  it('with a secret, forged arguments are never pushed: counted, logged once', async () => {
    const { namespace, engines: list } = await engines(1, { secret: SECRET });
    const { group, logs } = list[0]!;
    const { runs, run } = recorder();
    group.handle('k', run);
    for (const forged of [forgedArgs, `${'0'.repeat(64)}.${forgedArgs}`]) {
      await planted(namespace, 'k', forged);
      await sweepRefusing(group, namespace, 'k');
    }
    expect(runs).toEqual([]);
    expect(group.stats()).toMatchObject({ rejectedArgs: 2, runs: 0 });
    expect(logs).toEqual([expect.stringContaining('their HMAC does not verify')]);
    // The lease is free and the write pending: the next call stores its own arguments.
    expect(await redisState(suite.raw.client, namespace, 'k')).toMatchObject({ leased: false });
    await expect(group.do('k', run, { args: ['alice'] })).resolves.toBe('pushed 1');
    expect(runs).toEqual([['alice']]);
  });

  it('with a secret, the callers of a follow-up whose arguments were forged reject', async () => {
    const { namespace, engines: list } = await engines(1, { secret: SECRET });
    const { group } = list[0]!;
    const gate = deferred();
    const { runs, run } = recorder(gate.promise);
    const first = group.do('k', run, { args: ['alice'] });
    await until(() => runs.length === 1);
    const second = group.do('k', run, { args: ['bob'] });
    await until(() => group.stats().waiting === 2);
    // bob's arguments are in Redis; a Redis writer replaces them before the follow-up reads them.
    await suite.raw.client.hSet(redisKeys(namespace, 'k').st, 'args', forgedArgs);
    gate.resolve();
    await expect(first).resolves.toBe('pushed 1');
    const error = await rejectionOf(second);
    expect(error).toBeInstanceOf(SingleflightArgumentError);
    expect((error as Error).message).toContain('were refused');
    expect(runs).toEqual([['alice']]);
    expect(group.stats()).toMatchObject({ rejectedArgs: 1, runs: 1, timeouts: 0 });
  });

  it("with a secret, genuine arguments altered, or copied to another key's state, are refused", async () => {
    const { namespace, engines: list } = await engines(1, { secret: SECRET });
    const { group } = list[0]!;
    const { runs, run } = recorder();
    group.handle('user', run);
    await group.do('user:alice', run, { args: ['alice'] });
    const genuine = (await suite.raw.client.hGet(redisKeys(namespace, 'user:alice').st, 'args'))!;
    expect(genuine).toMatch(/^[0-9a-f]{64}\.\{/);
    await planted(namespace, 'user:bob', genuine);
    await sweepRefusing(group, namespace, 'user:bob');
    await suite.raw.client.del(redisKeys(namespace, 'user:bob').st);
    await planted(namespace, 'user:alice', genuine.replace('alice', 'alicf'));
    await sweepRefusing(group, namespace, 'user:alice');
    expect(runs).toEqual([['alice']]);
    expect(group.stats().rejectedArgs).toBe(2);
  });

  it('an instance with another secret refuses the arguments of one with the secret', async () => {
    const { namespace, engines: list } = await engines(1, { secret: SECRET });
    const rotated = { secret: `${SECRET}-rotated` };
    const { group: other } = await startPod(suite.redis.url, namespace, rotated, suite.cleanups);
    const { runs, run } = recorder();
    other.handle('k', run);
    // A genuine event of the first instance, left pending (its runner "crashed": no lease).
    await list[0]!.group.do('k', async () => 'done', { args: ['genuine'] });
    await suite.raw.client.hSet(redisKeys(namespace, 'k').st, 'ver', '5');
    await sweepRefusing(other, namespace, 'k');
    expect(runs).toEqual([]);
    expect(other.stats().rejectedArgs).toBe(1);
  });

  it('without a secret, Redis is trusted: arguments planted in the current format are pushed', async () => {
    const { namespace, engines: list } = await engines(1);
    const { group } = list[0]!;
    const { runs, run } = recorder();
    group.handle('k', run);
    await planted(namespace, 'k', forgedArgs);
    await group.sweep();
    await until(() => runs.length === 1);
    expect(runs).toEqual([['mallory']]);
  });

  it('arguments of the old format (a plain JSON array) are refused as unreadable, not pushed', async () => {
    const { namespace, engines: list } = await engines(1);
    const { group, logs } = list[0]!;
    const { runs, run } = recorder();
    group.handle('k', run);
    await planted(namespace, 'k', JSON.stringify(['2024-01-01T00:00:00.000Z']));
    await sweepRefusing(group, namespace, 'k');
    expect(runs).toEqual([]);
    expect(group.stats().rejectedArgs).toBe(1);
    expect(logs).toEqual([expect.stringContaining('written by an older release')]);
  });
});
