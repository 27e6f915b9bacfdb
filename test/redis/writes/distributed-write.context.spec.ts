import { describe, expect, it, jest } from '@jest/globals';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DistributedWriteGroup } from '../../../lib/redis/writes/distributed-write-group.js';
import type { WriteRunContext } from '../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { deferred } from '../../support/deferred.js';
import { sharedRedis } from '../../support/shared-redis.js';
import { until } from '../../support/until.js';
import { wrapCoordinator } from '../../support/redis-coordinator.js';
import { connect, startPod } from '../../support/write-fleet.js';

// The async context a fleet push works in (AsyncLocalStorage: the request's user, tenant, trace,
// as nestjs-cls carries them). Pushes start from the handlers of an earlier call's EVENT or push:
// they ran in the first caller's context, so bob's push saw alice as its user (an audit line, a
// trace, a tenant read from the context would be alice's), and ran the newest call's fn with
// alice's arguments. The in-process WriteGroup has the same rule (test/core/write-group-context).

jest.setTimeout(20_000);

const suite = sharedRedis();
let namespaces = 0;

/** Who is calling, as a request context would carry it. */
const user = new AsyncLocalStorage<string>();

async function pods(n: number): Promise<DistributedWriteGroup[]> {
  const namespace = `ctx${++namespaces}`;
  const groups: DistributedWriteGroup[] = [];
  for (let i = 0; i < n; i++) {
    groups.push((await startPod(suite.redis.url, namespace, {}, suite.cleanups)).group);
  }
  return groups;
}

/** A pod on `namespace` whose script calls fail once `fail()` is called (a Redis outage). */
async function breakablePod(namespace: string) {
  const connection = await connect(suite.redis.url);
  const real = connection.coordinator;
  let broken = false;
  const coordinator = wrapCoordinator(real, {
    eval: (...args) => (broken ? Promise.reject(new Error('READONLY')) : real.eval(...args)),
  });
  const options = { namespace, sweepEveryMs: 0, breakerMs: 60_000 };
  const group = new DistributedWriteGroup(coordinator, options, () => {});
  await group.init();
  suite.cleanups.push(async () => {
    await group.close();
    await connection.close();
  });
  return { group, fail: () => (broken = true) };
}

/**
 * Pushes that record `fn:args by user`, `fn` naming the call whose fn it is; the first push
 * waits for `gate`.
 */
function recorder(gate: Promise<void>) {
  const seen: string[] = [];
  const push = (fn: string) => async (args: unknown[], _context: WriteRunContext) => {
    seen.push(`${fn}:${String(args[0])} by ${user.getStore() ?? 'nobody'}`);
    if (seen.length === 1) await gate;
    return fn;
  };
  return { seen, push };
}

describe('DistributedWriteGroup: the context a push works in', () => {
  // Two runs, not one, by design: alice's EVENT took the lease with her arguments; bob's and
  // carol's calls, made while it was on its way, reach Redis in one EVENT after it (a push that
  // started after they called), so they cost exactly one follow-up, with carol's (the newest).
  it("calls made before alice's EVENT registered her push in Redis cost one follow-up (their EVENT lands after hers): hers runs as alice, the follow-up as carol, each with its own fn", async () => {
    const [group] = await pods(1);
    const gate = deferred();
    const { seen, push } = recorder(gate.promise);
    const call = (name: string, state: string) =>
      user.run(name, () => group!.do('order:1', push(state), { args: [state] }));
    const calls = [call('alice', 'a'), call('bob', 'b'), call('carol', 'c')];
    // Bob's and carol's EVENT has its reply: they wait for a push from ver 2.
    await until(() => group!.stats().events === 2);
    gate.resolve();
    expect(await Promise.all(calls)).toEqual(['a', 'c', 'c']);
    expect(seen).toEqual(['a:a by alice', 'c:c by carol']);
    expect(group!.stats()).toMatchObject({ runs: 2, followUps: 1, coalesced: 1 });
  });

  it('a call made during a push, with no EVENT in flight, gets its follow-up in its own context', async () => {
    const [group] = await pods(1);
    const gate = deferred();
    const { seen, push } = recorder(gate.promise);
    const first = user.run('alice', () => group!.do('order:2', push('a'), { args: ['a'] }));
    await until(() => seen.length === 1);
    const second = user.run('bob', () => group!.do('order:2', push('b'), { args: ['b'] }));
    await until(() => group!.stats().events === 2);
    gate.resolve();
    await Promise.all([first, second]);
    expect(seen).toEqual(['a:a by alice', 'b:b by bob']);
  });

  // A push that carries only another instance's events is no local caller's: it ran as alice.
  it("a follow-up that carries only another instance's event runs in no caller's context", async () => {
    const [a, b] = await pods(2);
    const gate = deferred();
    const { seen, push } = recorder(gate.promise);
    const first = user.run('alice', () => a!.do('order:3', push('a'), { args: ['a'] }));
    await until(() => seen.length === 1);
    const remote = user.run('dave', () => b!.do('order:3', push('d'), { args: ['d'] }));
    await until(() => b!.stats().events === 1);
    gate.resolve();
    await Promise.all([first, remote]);
    // Pod a pushes dave's arguments with its own fn: dave's context stays on pod b.
    expect(seen).toEqual(['a:a by alice', 'a:d by nobody']);
  });

  // The outage's fallback pushes every waiting caller from whichever call met the failure.
  it('a caller pushed in-process when Redis fails keeps its own context, not the one of the call that met the failure', async () => {
    const { group, fail } = await breakablePod(`ctx${++namespaces}`);
    const gate = deferred();
    const { seen, push } = recorder(gate.promise);
    const call = (name: string, state: string) =>
      user.run(name, () => group.do('order:4', push(state), { args: [state] }));
    const alice = call('alice', 'a');
    await until(() => seen.length === 1);
    const bob = call('bob', 'b');
    await until(() => group.stats().events === 2);
    fail();
    // Carol's EVENT fails: bob, waiting on Redis, is pushed in-process from her call's handlers.
    const carol = call('carol', 'c');
    await until(() => group.stats().localFallbacks === 2);
    gate.resolve();
    expect(await Promise.all([alice, bob, carol])).toEqual(['a', 'b', 'c']);
    expect(seen).toEqual(['a:a by alice', 'b:b by bob', 'c:c by carol']);
  });

  // Bob's call found the key idle on pod b, and its EVENT found pod a running: it kept nothing,
  // so when Redis failed on dave's call of another key, bob's fallback ran as dave.
  it('a call whose EVENT found another instance running keeps its context for a later fallback', async () => {
    const [a] = await pods(1);
    const { group: b, fail } = await breakablePod(`ctx${namespaces}`);
    const gate = deferred();
    const { seen, push } = recorder(gate.promise);
    const alice = user.run('alice', () => a!.do('order:6', push('a'), { args: ['a'] }));
    await until(() => seen.length === 1);
    const bob = user.run('bob', () => b.do('order:6', push('b'), { args: ['b'] }));
    await until(() => b.stats().events === 1);
    fail();
    const dave = user.run('dave', () => b.do('order:7', push('d'), { args: ['d'] }));
    await until(() => seen.length === 3);
    expect(seen.slice(1).sort()).toEqual(['b:b by bob', 'd:d by dave']);
    gate.resolve();
    expect(await Promise.all([alice, bob, dave])).toEqual(['a', 'b', 'd']);
  });
});
