import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Group,
  SingleflightArgumentError,
  SingleflightOptionsError,
} from '../../../lib/core/index.js';
import {
  DistributedFlight,
  MISS_SENTINEL,
  RemoteFlightError,
  isRemoteError,
  type DistributedFlightOptions,
} from '../../../lib/redis/index.js';
import type { RedisCoordinator } from '../../../lib/redis/coordinator/coordinator.interface.js';
import { rejectionOf } from '../../support/deferred.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import {
  type TestClient,
  commandCalls,
  connectCoordinator,
  wrapCoordinator,
} from '../../support/redis-coordinator.js';
import { until } from '../../support/until.js';

// Several "pods" in one process: each has its own Group, DistributedFlight and Redis connections,
// against a private redis-server.

interface InProcessPod {
  group: Group;
  flight: DistributedFlight;
  coordinator: RedisCoordinator;
  client: TestClient;
  logs: string[];
  /** Calls the key through the pod's in-process flight, which wraps the distributed one. */
  call<T>(
    key: string,
    fn: () => Promise<T>,
    recheck?: () => Promise<T | typeof MISS_SENTINEL>,
  ): Promise<T>;
}

let redis: RedisServer;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

afterAll(async () => {
  await redis?.stop();
});

async function startPod(
  options: DistributedFlightOptions = {},
  wrap: (coordinator: RedisCoordinator) => RedisCoordinator = (c) => c,
  url = redis.url,
): Promise<InProcessPod> {
  const connection = await connectCoordinator(url, { waitForServer: url === redis.url });
  const coordinator = wrap(connection.coordinator);
  const logs: string[] = [];
  const flight = new DistributedFlight(coordinator, options, (message) => logs.push(message));
  await flight.init();
  cleanups.push(async () => {
    await flight.close();
    await connection.close();
  });
  const group = new Group();
  return {
    group,
    flight,
    coordinator,
    client: connection.client,
    logs,
    call: (key, fn, recheck) => group.do(key, () => flight.run(key, fn, recheck)),
  };
}

const startPods = (n: number, options?: DistributedFlightOptions) =>
  Promise.all(Array.from({ length: n }, () => startPod(options)));

/** A backend that counts its calls and answers `value(call)` after `ms`. */
function backend<T>(ms: number, value: (call: number) => T) {
  const b = {
    calls: 0,
    fn: async (): Promise<T> => {
      const call = ++b.calls;
      await sleep(ms);
      return value(call);
    },
  };
  return b;
}

/** `callers` concurrent calls of `key` on every pod; the settled outcomes, per pod. */
function burst<T>(pods: InProcessPod[], key: string, callers: number, fn: () => Promise<T>) {
  return Promise.all(
    pods.map((pod) => Promise.allSettled(Array.from({ length: callers }, () => pod.call(key, fn)))),
  );
}

const values = <T>(outcomes: PromiseSettledResult<T>[]) =>
  outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason));

const total = (pods: InProcessPod[], stat: 'leader' | 'follower' | 'reused' | 'localFallbacks') =>
  pods.reduce((sum, pod) => sum + pod.flight.stats()[stat], 0);

const newKey = () => `user:${randomUUID()}`;

describe('DistributedFlight (pods in one process, real Redis)', () => {
  it('runs the work once across pods; every caller on every pod gets its value', async () => {
    const pods = await startPods(3);
    const work = backend(100, () => ({ id: randomUUID() }));
    const outcomes = await burst(pods, newKey(), 50, work.fn);

    expect(work.calls).toBe(1);
    const all = outcomes.flatMap(values);
    expect(all).toHaveLength(150);
    expect(outcomes.every((o) => o.every((s) => s.status === 'fulfilled'))).toBe(true);
    expect(new Set(all.map((v) => JSON.stringify(v))).size).toBe(1);
    expect(total(pods, 'leader')).toBe(1);
    expect(total(pods, 'follower') + total(pods, 'reused')).toBe(2);
    expect(total(pods, 'localFallbacks')).toBe(0);
  });

  it('shares an error across pods: name, message, code and HTTP status/response kept, flagged remote', async () => {
    const [leader, follower] = await startPods(2);
    const key = newKey();
    let calls = 0;
    const fn = async () => {
      calls++;
      await sleep(100);
      throw Object.assign(new NotFoundException('no such user'), { code: 'E_NO_USER' });
    };
    const first = leader!.call(key, fn);
    await until(() => calls === 1);
    const second = follower!.call(key, fn);

    const own = await rejectionOf(first);
    const remote = await rejectionOf(second);
    expect(calls).toBe(1);
    // The leader's callers get the original error itself.
    expect(own).toBeInstanceOf(NotFoundException);
    expect(isRemoteError(own)).toBe(false);
    // Other pods get it rebuilt.
    expect(remote).toBeInstanceOf(RemoteFlightError);
    expect(isRemoteError(remote)).toBe(true);
    expect(remote).toMatchObject({
      name: 'NotFoundException',
      message: 'no such user',
      code: 'E_NO_USER',
      status: 404,
      httpException: true,
      response: { statusCode: 404, message: 'no such user', error: 'Not Found' },
      remote: true,
      key,
    });
  });

  it('keeps a numeric status of a plain error, and wraps a thrown non-Error like the Group does', async () => {
    const [a, b] = await startPods(2);
    const key = newKey();
    let calls = 0;
    const fn = async () => {
      calls++;
      await sleep(80);
      throw Object.assign(new Error('upstream unavailable'), { status: 503 });
    };
    const first = rejectionOf(a!.call(key, fn));
    await until(() => calls === 1);
    const remote = await rejectionOf(b!.call(key, fn));
    await first;
    expect(remote).toMatchObject({ name: 'Error', message: 'upstream unavailable', status: 503 });
    expect(remote).not.toHaveProperty('response');
    expect(remote).not.toHaveProperty('httpException');

    const key2 = newKey();
    const thrower = async () => {
      calls++;
      await sleep(80);
      throw 'plain string';
    };
    const led = rejectionOf(a!.call(key2, thrower));
    await until(() => calls === 2);
    const joined = await rejectionOf(b!.call(key2, thrower));
    const own = await led;
    expect(calls).toBe(2);
    expect(own).toMatchObject({ name: 'SingleflightThrownValueError', cause: 'plain string' });
    expect(joined).toMatchObject({
      name: 'SingleflightThrownValueError',
      message: (own as Error).message,
      remote: true,
    });
  });

  it('does not share a value the codec cannot encode (a class without a codec): other pods run the work themselves', async () => {
    class Session {
      constructor(readonly call: number) {}
    }
    const pods = await startPods(3);
    const work = backend(100, (call) => ({ session: new Session(call) }));
    const outcomes = await burst(pods, newKey(), 20, work.fn);

    // One run on the leader pod, then one per follower pod: still one per pod.
    expect(work.calls).toBe(3);
    const all = outcomes.flatMap(values) as Array<{ session: Session }>;
    expect(all.every((v) => v.session instanceof Session)).toBe(true);
    expect(new Set(all.map((v) => v.session.call)).size).toBe(3);
    expect(pods.reduce((sum, pod) => sum + pod.flight.stats().unshareable, 0)).toBe(1);
    expect(total(pods, 'localFallbacks')).toBe(2);
  });

  it('does not share a result above maxResultBytes', async () => {
    const pods = await startPods(2, { maxResultBytes: 1024 });
    const work = backend(80, () => 'x'.repeat(2000));
    const outcomes = await burst(pods, newKey(), 5, work.fn);
    expect(work.calls).toBe(2);
    expect(outcomes.flatMap(values).every((v) => v === 'x'.repeat(2000))).toBe(true);
  });

  it('gives equal values of the same types on the leader and on followers (Date, Set, BigInt, undefined)', async () => {
    const pods = await startPods(3);
    const at = new Date('2026-01-02T03:04:05.678Z');
    const made = () => ({
      at,
      tags: new Set(['a']),
      big: 2n ** 70n,
      gone: undefined,
      nested: [{ n: 1 }],
    });
    const work = backend(100, made);
    const outcomes = await burst(pods, newKey(), 10, work.fn);

    expect(work.calls).toBe(1);
    for (const value of outcomes.flatMap(values)) expect(value).toStrictEqual(made());
  });

  it('shares an undefined result as undefined', async () => {
    const pods = await startPods(2);
    const work = backend(80, () => undefined);
    const outcomes = await burst(pods, newKey(), 5, work.fn);
    expect(work.calls).toBe(1);
    expect(outcomes.flatMap(values).every((v) => v === undefined)).toBe(true);
  });

  it('reuses a result that finished less than resultTtlMs ago (reuseRecentResult, the default)', async () => {
    const [a, b] = await startPods(2);
    const key = newKey();
    const work = backend(30, (call) => `v${call}`);
    expect(await a!.call(key, work.fn)).toBe('v1');
    // Arrives after the flight ended, on another pod: answered by the recent result.
    expect(await b!.call(key, work.fn)).toBe('v1');
    expect(work.calls).toBe(1);
    expect(b!.flight.stats().reused).toBe(1);
  });

  it('does not reuse a recent error: a caller after a failed flight runs the work again', async () => {
    const [a, b] = await startPods(2);
    const key = newKey();
    let calls = 0;
    const fn = async () => {
      calls++;
      await sleep(30);
      if (calls === 1) throw new Error('transient');
      return 'recovered';
    };
    expect(await rejectionOf(a!.call(key, fn))).toMatchObject({ message: 'transient' });
    expect(await b!.call(key, fn)).toBe('recovered');
    expect(calls).toBe(2);
  });

  it('strict mode (reuseRecentResult false) has Go semantics: only callers during a flight share it', async () => {
    const [a, b] = await startPods(2, { reuseRecentResult: false });
    const key = newKey();
    const work = backend(100, (call) => `v${call}`);
    // Concurrent: shared.
    const [x, y] = await Promise.all([a!.call(key, work.fn), b!.call(key, work.fn)]);
    expect([x, y, work.calls]).toEqual(['v1', 'v1', 1]);
    // After it ended: a new flight, even though the old result is still in Redis.
    expect(await b!.call(key, work.fn)).toBe('v2');
    expect(work.calls).toBe(2);
    expect(b!.flight.stats().reused).toBe(0);
  });

  it('forget() across pods: later calls start a new flight, waiting callers get no older result', async () => {
    const [a, b, c] = await startPods(3);
    const key = newKey();
    const work = backend(300, (call) => `v${call}`);
    const first = a!.call(key, work.fn);
    await until(() => work.calls === 1);
    const joined = b!.call(key, work.fn);
    await until(() => b!.flight.stats().follower === 1); // b follows a's flight, not a later one
    await c!.flight.forget(key);
    // After forget: a new flight, not a join of the running one.
    expect(await c!.call(key, work.fn)).toBe('v2');
    // The leader's own caller keeps its flight's outcome. A caller on another pod that was waiting
    // for that flight gets it, or (when the forget came before its wait for the result began: the
    // old flight then no longer publishes under the key) the new flight's: never an older one.
    expect(await first).toBe('v1');
    expect(['v1', 'v2']).toContain(await joined);
    // And no reuse of a recent result after forget either.
    await b!.flight.forget(key);
    expect(await b!.call(key, work.fn)).toBe('v3');
    expect(work.calls).toBe(3);
  });

  it('gives work that ran without Redis the same value as shared results: a copy, types kept', async () => {
    const pod = await startPod({}, (c) =>
      wrapCoordinator(c, { eval: () => Promise.reject(new Error('connection reset')) }),
    );
    const value = { at: new Date('2026-01-02T03:04:05.678Z'), gone: undefined, n: 10n };
    const got = await pod.call(newKey(), async () => value);
    expect(got).toStrictEqual(value);
    expect(got).not.toBe(value);
    // A value the codec cannot carry comes back as it is.
    const user = new (class User {})();
    expect(await pod.call(newKey(), async () => user)).toBe(user);
    expect(pod.flight.stats().localFallbacks).toBe(2);
  });

  it('renews the lease, so work longer than the lease still runs once', async () => {
    const pods = await startPods(3, { leaseMs: 300 });
    const work = backend(1000, () => randomUUID());
    const outcomes = await burst(pods, newKey(), 10, work.fn);

    expect(work.calls).toBe(1);
    expect(new Set(outcomes.flatMap(values)).size).toBe(1);
    const leader = pods.find((p) => p.flight.stats().leader === 1)!;
    expect(leader.flight.stats().renewals).toBeGreaterThanOrEqual(2);
    expect(total(pods, 'localFallbacks')).toBe(0);
    expect(pods.every((p) => p.flight.stats().leaseLost === 0)).toBe(true);
  });

  it('re-checks the cache after winning the lease: a hit is shared and the work does not run', async () => {
    const pods = await startPods(2);
    const work = backend(50, () => 'from work');
    let rechecks = 0;
    const recheck = async () => {
      rechecks++;
      await sleep(50);
      return 'from cache' as string | typeof MISS_SENTINEL;
    };
    const key = newKey();
    const results = await Promise.all(pods.map((pod) => pod.call(key, work.fn, recheck)));
    expect(results).toEqual(['from cache', 'from cache']);
    expect(work.calls).toBe(0);
    expect(rechecks).toBe(1);
    expect(pods.reduce((sum, p) => sum + p.flight.stats().recheckHits, 0)).toBe(1);

    // A miss, or a failing re-check (logged), runs the work.
    const miss = await pods[0]!.call(newKey(), work.fn, async () => MISS_SENTINEL);
    const failing = await pods[0]!.call(newKey(), work.fn, async () => {
      throw new Error('cache store down');
    });
    expect([miss, failing, work.calls]).toEqual(['from work', 'from work', 2]);
    expect(pods[0]!.logs.some((m) => m.includes('Re-checking the cache'))).toBe(true);
  });

  it('costs a bounded number of Redis round trips: 4 pods x 250 callers -> 5 EVAL + 6 GET', async () => {
    const counts = { eval: 0, get: 0 };
    const counting = (c: RedisCoordinator) =>
      wrapCoordinator(c, {
        eval: (...args) => (counts.eval++, c.eval(...args)),
        get: (key) => (counts.get++, c.get(key)),
      });
    const pods = await Promise.all(Array.from({ length: 4 }, () => startPod({}, counting)));
    // Scripts loaded (a first EVALSHA answers NOSCRIPT), then a clean slate.
    await pods[0]!.call(newKey(), async () => 0);
    await pods[0]!.client.configResetStat();
    counts.eval = counts.get = 0;

    const work = backend(100, () => 'v');
    await burst(pods, newKey(), 250, work.fn);
    expect(work.calls).toBe(1);
    // Client side: 4 ACQUIRE + 1 COMPLETE; each follower reads res before and after its wait.
    expect(counts.eval).toBeLessThanOrEqual(5);
    expect(counts.get).toBeLessThanOrEqual(6);
    // Server side (INFO commandstats): the same EVALSHA count; GET adds the scripts' own reads.
    const server = await commandCalls(pods[0]!.client);
    expect((server.evalsha ?? 0) + (server.eval ?? 0)).toBe(counts.eval);
    expect(server.get ?? 0).toBeLessThanOrEqual(counts.get + 8);
  });

  it('survives a lost wake-up: a follower that misses the message still gets the result', async () => {
    const deaf = (c: RedisCoordinator) =>
      wrapCoordinator(c, { subscribe: (channel) => c.subscribe(channel, () => {}) });
    const pods = await Promise.all(
      Array.from({ length: 3 }, () => startPod({ leaseMs: 600 }, deaf)),
    );
    const work = backend(100, () => randomUUID());
    const started = performance.now();
    const outcomes = await burst(pods, newKey(), 10, work.fn);
    expect(work.calls).toBe(1);
    expect(new Set(outcomes.flatMap(values)).size).toBe(1);
    // Found by polling res (every leaseMs / 3), well before the lease would run out.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a follower waits at most waitTimeoutMs, then runs the work itself', async () => {
    const [a, b] = await Promise.all([startPod(), startPod({ waitTimeoutMs: 150 })]);
    const key = newKey();
    const work = backend(800, (call) => `v${call}`);
    const first = a!.call(key, work.fn);
    await until(() => work.calls === 1);
    const started = performance.now();
    const second = b!.call(key, work.fn);
    await until(() => work.calls === 2, 2000);
    // Gave up waiting long before the leader's work ended.
    expect(performance.now() - started).toBeLessThan(600);
    expect(await second).toBe('v2');
    expect(b!.flight.stats()).toMatchObject({ timeouts: 1, localFallbacks: 1 });
    expect(await first).toBe('v1');
  });

  it('a lost connection wakes every waiting follower at once, and it runs locally', async () => {
    const lost = new Set<() => void>();
    const losable = (c: RedisCoordinator) =>
      wrapCoordinator(c, {
        onConnectionLost: (listener) => {
          lost.add(listener);
          return () => void lost.delete(listener);
        },
      });
    const [a, b] = await Promise.all([startPod(), startPod({}, losable)]);
    const key = newKey();
    const work = backend(800, (call) => `v${call}`);
    const first = a!.call(key, work.fn);
    await until(() => work.calls === 1);
    const second = b!.call(key, work.fn);
    await sleep(50);
    const started = performance.now();
    for (const listener of lost) listener();
    // b runs the work itself, at once, and does not fail.
    await until(() => work.calls === 2, 1000);
    expect(performance.now() - started).toBeLessThan(500);
    expect(await second).toBe('v2');
    expect(b!.flight.stats()).toMatchObject({ breakerOpen: true, localFallbacks: 1 });
    expect(b!.logs.filter((m) => m.includes('failed'))).toHaveLength(1);
    expect(await first).toBe('v1');
  });

  it('never fails a caller because of Redis: errors trip the breaker, which skips Redis until ready', async () => {
    let evals = 0;
    let broken = true;
    const ready = new Set<() => void>();
    const pod = await startPod({ breakerMs: 60_000 }, (c) =>
      wrapCoordinator(c, {
        eval: (...args) => {
          evals++;
          return broken ? Promise.reject(new Error('READONLY')) : c.eval(...args);
        },
        onReady: (listener) => {
          ready.add(listener);
          return () => void ready.delete(listener);
        },
      }),
    );
    const work = backend(10, (call) => `v${call}`);
    expect(await pod.call(newKey(), work.fn)).toBe('v1');
    expect(await pod.call(newKey(), work.fn)).toBe('v2');
    // The second call did not touch Redis: the breaker was open.
    expect(evals).toBe(1);
    expect(pod.flight.stats()).toMatchObject({
      coordinationErrors: 1,
      localFallbacks: 2,
      breakerOpen: true,
    });
    expect(pod.logs).toHaveLength(1);

    // The work's own errors still reach the caller, unchanged.
    const own = new Error('backend down');
    expect(
      await rejectionOf(
        pod.call(newKey(), async () => {
          throw own;
        }),
      ),
    ).toBe(own);

    broken = false;
    for (const listener of ready) listener();
    expect(pod.flight.stats().breakerOpen).toBe(false);
    expect(await pod.call(newKey(), work.fn)).toBe('v3');
    expect(pod.flight.stats().leader).toBe(1);
    expect(pod.logs.at(-1)).toMatch(/is back/);
  });

  it('works with Redis down from the start: init() resolves, each pod runs the work once, logs once', async () => {
    const down = await startRedis();
    await down.stop();
    const pods = await Promise.all(
      Array.from({ length: 3 }, () => startPod({}, undefined, down.url)),
    );
    const work = backend(50, () => 'v');
    const outcomes = await burst(pods, newKey(), 20, work.fn);
    expect(outcomes.flatMap(values).every((v) => v === 'v')).toBe(true);
    expect(work.calls).toBe(3);
    await burst(pods, newKey(), 20, work.fn);
    expect(work.calls).toBe(6);
    for (const pod of pods) expect(pod.logs).toHaveLength(1);
  });

  it('shares flights again once Redis is back (ready closes the breaker early)', async () => {
    const pods = await startPods(3);
    await redis.kill();
    const work = backend(50, () => 'v');
    await burst(pods, newKey(), 5, work.fn);
    expect(work.calls).toBe(3);
    expect(pods.every((pod) => pod.flight.stats().breakerOpen)).toBe(true);

    await redis.restart();
    await until(() => pods.every((pod) => !pod.flight.stats().breakerOpen), 5000);
    await burst(pods, newKey(), 5, work.fn);
    expect(work.calls).toBe(4);
    for (const pod of pods) expect(pod.logs.at(-1)).toMatch(/is back/);
  });

  it('close() releases waiting followers to run locally; later runs do not use Redis', async () => {
    const [a, b] = await startPods(2);
    const key = newKey();
    const work = backend(400, (call) => `v${call}`);
    const first = a!.call(key, work.fn);
    await until(() => work.calls === 1);
    const second = b!.call(key, work.fn);
    await sleep(50);
    await b!.flight.close();
    expect(await second).toBe('v2');
    expect(await b!.call(key, work.fn)).toBe('v3');
    expect(await first).toBe('v1');
  });

  it('rejects bad options and a missing coordinator at construction', () => {
    // Construction touches no Redis: listeners only.
    const coordinator = wrapCoordinator({} as RedisCoordinator, {
      onConnectionLost: () => () => {},
      onReady: () => () => {},
    });
    const make = (options: unknown) => () => new DistributedFlight(coordinator, options as never);
    for (const bad of [
      { leaseMs: 0 },
      { leaseMs: 1.5 },
      { leaseMs: 2 ** 31 }, // renewed by a timer: past 2^31 - 1 ms it would fire after 1 ms
      { resultTtlMs: -1 },
      { waitTimeoutMs: Infinity },
      { maxResultBytes: 0 },
      { namespace: '' },
      { namespace: 'a{b}' },
      { reuseRecentResult: 'yes' },
      { leasMs: 100 },
    ]) {
      expect(make(bad)).toThrow(SingleflightOptionsError);
    }
    expect(make({ leaseMs: 0 })).toThrow(/Option "leaseMs" in DistributedFlight options/);
    expect(make({ leasMs: 100 })).toThrow(/Unknown option "leasMs"/);
    expect(() => new DistributedFlight(undefined as never)).toThrow(SingleflightArgumentError);
  });
});
