import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Group } from '../../../lib/core/index.js';
import { DistributedFlight } from '../../../lib/redis/index.js';
import { DistributedWriteGroup } from '../../../lib/redis/writes/distributed-write-group.js';
import { keyHash } from '../../../lib/redis/coordinator/script-sha.js';
import { deferred } from '../../support/deferred.js';
import { connectCoordinator } from '../../support/redis-coordinator.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { until } from '../../support/until.js';

// The Redis name of a key must be an injective function of (namespace, key): two keys a user can
// tell apart never share a fleet-wide flight or write.

/** Two keys that UTF-8 cannot tell apart: each lone surrogate becomes U+FFFD. */
const ALICE = 'user\ud800';
const BOB = 'user\udbff';

describe('keyHash', () => {
  it('(property) distinct (namespace, key) pairs get distinct hashes, lone surrogates included', () => {
    // Near-misses: a second pair made from the first by moving the namespace/key boundary or by
    // swapping one code unit for a lone surrogate, U+FFFD or a digit; or an unrelated pair.
    const unit = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ufffd', ':', '1', 'a');
    const text = fc.oneof(fc.string({ unit }), fc.string({ unit: 'binary' }));
    const pair = fc.tuple(text, text);
    const near = fc
      .tuple(pair, fc.nat(), fc.nat(), unit, fc.boolean())
      .map(([[ns, key], cut, at, swap, move]) => {
        const all = ns + key;
        if (move) {
          const c = cut % (all.length + 1);
          return [
            [ns, key],
            [all.slice(0, c), all.slice(c)],
          ];
        }
        if (all.length === 0)
          return [
            [ns, key],
            [swap, ''],
          ];
        const i = at % all.length;
        const changed = all.slice(0, i) + swap + all.slice(i + 1);
        return [
          [ns, key],
          [changed.slice(0, ns.length), changed.slice(ns.length)],
        ];
      });
    fc.assert(
      fc.property(fc.oneof(near, fc.tuple(pair, pair)), ([[ns1, key1], [ns2, key2]]) => {
        const same = ns1 === ns2 && key1 === key2;
        expect(keyHash(ns1, key1) === keyHash(ns2, key2)).toBe(same);
      }),
      { seed: 1206, numRuns: 3000 },
    );
  });

  it('keeps apart keys that differ only in lone surrogates, and a namespace from its key', () => {
    expect(keyHash('sf', ALICE)).not.toBe(keyHash('sf', BOB));
    expect(keyHash('sf', 'a\ud800b')).not.toBe(keyHash('sf', 'a\ufffdb'));
    expect(keyHash('a', 'bc')).not.toBe(keyHash('ab', 'c'));
    expect(keyHash('1', ':x')).not.toBe(keyHash('1:', 'x'));
    expect(keyHash('sf', 'k')).toBe(keyHash('sf', 'k'));
  });
});

describe('keys with lone surrogates against a real redis-server', () => {
  let redis: RedisServer;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function pod() {
    const connection = await connectCoordinator(redis.url, { waitForServer: true });
    const flight = new DistributedFlight(connection.coordinator, { namespace: 'keys' });
    const writes = new DistributedWriteGroup(connection.coordinator, {
      namespace: 'keys',
      sweepEveryMs: 0,
    });
    await Promise.all([flight.init(), writes.init()]);
    cleanups.push(async () => {
      await Promise.all([flight.close(), writes.close()]);
      await connection.close();
    });
    const group = new Group();
    const call = (key: string, fn: () => Promise<string>) =>
      group.do(key, () => flight.run(key, fn));
    return { flight, writes, call };
  }

  it('two such keys on two pods run two flights, each caller getting its own value', async () => {
    const [a, b] = [await pod(), await pod()];
    const gate = deferred<string>();
    let runs = 0;
    const alice = a.call(ALICE, () => (runs++, gate.promise));
    await until(() => runs === 1);
    // Bob's key on another pod: a flight of its own, not a wait for Alice's.
    const bob = b.call(BOB, async () => (runs++, 'bob'));
    await until(() => runs === 2);
    gate.resolve('alice');
    expect([await alice, await bob]).toEqual(['alice', 'bob']);
    // Neither followed nor reused the other's result.
    expect(a.flight.stats().leader + b.flight.stats().leader).toBe(2);
    expect(b.flight.stats().follower + b.flight.stats().reused).toBe(0);
  });

  it('two such keys of one write group push each its own arguments at once', async () => {
    const { writes } = await pod();
    const gate = deferred();
    const pushed: string[] = [];
    const run = async (args: unknown[]) => {
      pushed.push(String(args[0]));
      if (pushed.length === 1) await gate.promise;
      return args[0];
    };
    const first = writes.do(ALICE, run, { args: ['alice'] });
    await until(() => pushed.length === 1);
    // Another key: it runs now, not after Alice's push, and is not merged into it.
    const second = writes.do(BOB, run, { args: ['bob'] });
    await until(() => pushed.length === 2);
    gate.resolve();
    expect([await first, await second]).toEqual(['alice', 'bob']);
    expect(pushed).toEqual(['alice', 'bob']);
  });
});
