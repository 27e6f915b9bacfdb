import { describe, expect, it, jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SingleflightAbortError,
  SingleflightArgumentError,
  SingleflightOptionsError,
  SingleflightReentryError,
  SingleflightTimeoutError,
} from '../../../lib/core/singleflight.errors.js';
import { DistributedFlight } from '../../../lib/redis/flight/distributed-flight.js';
import { DistributedWriteGroup } from '../../../lib/redis/writes/distributed-write-group.js';
import type {
  DistributedWriteOptions,
  WriteLedger,
  WriteRunContext,
} from '../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { EVENT } from '../../../lib/redis/writes/write.scripts.js';
import { deferred, rejectionOf, track } from '../../support/deferred.js';
import { wrapCoordinator } from '../../support/redis-coordinator.js';
import { startRedis } from '../../support/redis-server.js';
import { sharedRedis } from '../../support/shared-redis.js';
import { until } from '../../support/until.js';
import {
  type Connection,
  type EventRecord,
  type RedisClient,
  Downstream,
  connect,
  eventually,
  redisKeys,
  redisState,
  startPod,
  storedForm,
} from '../../support/write-fleet.js';

// Several DistributedWriteGroups in one process, each with its own Redis connections (= pods),
// against a private redis-server. Every test has its own namespace.

jest.setTimeout(20_000);

const suite = sharedRedis();
let namespaces = 0;

interface TestPod {
  name: string;
  group: DistributedWriteGroup;
  connection: Connection;
  logs: string[];
}

/** `n` pods on one namespace; `newest(key)` is the arguments of the key's last EVENT in Redis order. */
async function fleet(n: number, options: DistributedWriteOptions = {}, url = suite.redis.url) {
  const namespace = `t${++namespaces}`;
  const events: EventRecord[] = [];
  const pods: TestPod[] = [];
  for (let i = 0; i < n; i++) {
    const logs: string[] = [];
    const { group, connection } = await startPod(url, namespace, options, suite.cleanups, {
      log: (message) => logs.push(message),
      onEvent: (event) => events.push(event),
    });
    pods.push({ name: String.fromCharCode(97 + i), group, connection, logs });
  }
  const newest = (key: string): unknown => {
    const mine = events.filter((event) => event.key === key);
    return JSON.parse(mine.reduce((a, b) => (b.ver > a.ver ? b : a)).json);
  };
  const state = (key: string) => redisState(suite.raw.client, namespace, key);
  return { namespace, pods, events, newest, state };
}

/** A crashed runner: an EVENT under a token nobody holds, its lease alive for `leaseMs`. */
async function deadRunner(
  client: RedisClient,
  namespace: string,
  key: string,
  args: unknown[],
  leaseMs: number,
) {
  const { lease, st } = redisKeys(namespace, key);
  await client.eval(EVENT.source, {
    keys: [lease, st],
    arguments: ['dead-token', String(leaseMs), storedForm(args), key, '600000', '1'],
  });
}

interface Run {
  pod: string;
  args: unknown[];
  fence: number;
  signal: AbortSignal;
}

/** Pushes that record themselves; the first one waits for `gate` when given. */
function recorder(gate?: Promise<void>) {
  const runs: Run[] = [];
  const run =
    (pod: string) =>
    async (args: unknown[], { fence, signal }: WriteRunContext): Promise<string> => {
      runs.push({ pod, args, fence, signal });
      if (runs.length === 1 && gate) await gate;
      return `${pod}:${JSON.stringify(args)}`;
    };
  return { runs, run };
}

describe('DistributedWriteGroup against a real redis-server', () => {
  describe('the scripts', () => {
    it('an event on an idle key runs at once on the calling pod, with its args decoded and a fence', async () => {
      const { pods, state, namespace } = await fleet(1);
      const [a] = pods;
      const seen: { args: unknown[]; key: string; fence: number; aborted: boolean }[] = [];
      const value = await a!.group.do(
        'user:1',
        async (args, { key, fence, signal }) => {
          seen.push({ args, key, fence, aborted: signal.aborted });
          return 'pushed';
        },
        { args: [1, { at: new Date(0), tags: ['x'] }, undefined] },
      );
      expect(value).toBe('pushed');
      // A Date stays a Date (the codec's data in Redis), and a trailing undefined stays omitted.
      const args = [1, { at: new Date(0), tags: ['x'] }];
      const fence = seen[0]!.fence;
      expect(seen).toEqual([{ args, key: 'user:1', fence, aborted: false }]);
      expect(Number.isSafeInteger(fence) && fence > 0).toBe(true);
      const stored = [1, { at: { $: ['Date', 0] }, tags: ['x'] }];
      expect(await state('user:1')).toEqual({
        ver: 1,
        done: 1,
        fence,
        args: stored,
        leased: false,
      });
      // The state hash has the sliding TTL (7 days by default).
      const ttl = await suite.raw.client.pTTL(redisKeys(namespace, 'user:1').st);
      expect(ttl).toBeGreaterThan(6 * 24 * 3_600_000);
      expect(a!.group.stats()).toMatchObject({ calls: 1, events: 1, runs: 1, waiting: 0, size: 0 });
    });

    it('events during a push, from every pod, cost exactly one follow-up with the newest args', async () => {
      const { pods, events, newest, state } = await fleet(3);
      const gate = deferred();
      const { runs, run } = recorder(gate.promise);
      const [a, b, c] = pods;
      const first = a!.group.do('k', run('a'), { args: [0] });
      await until(() => runs.length === 1);
      const during = Array.from({ length: 12 }, (_, i) => {
        const pod = pods[(i + 1) % 3]!;
        return { pod: pod.name, result: pod.group.do('k', run(pod.name), { args: [i + 1] }) };
      });
      // Each pod's newest call has reached Redis (a pod's calls coalesce during its round trip).
      await until(() => ['[10]', '[11]', '[12]'].every((j) => events.some((e) => e.json === j)));
      expect(runs).toHaveLength(1);
      gate.resolve();

      await expect(first).resolves.toBe('a:[0]');
      const results = await Promise.all(during.map((d) => d.result));
      expect(runs).toHaveLength(2);
      // The lease holder runs the follow-up, with the arguments of the last EVENT Redis saw.
      expect(runs[1]).toMatchObject({ pod: 'a', args: newest('k') });
      expect(runs[1]!.fence).toBeGreaterThan(runs[0]!.fence);
      during.forEach((d, i) => {
        // Callers on the runner's pod get its value; the others' wake-up carries none.
        expect(results[i]).toBe(d.pod === 'a' ? `a:${JSON.stringify(newest('k'))}` : undefined);
      });
      const s = await state('k');
      expect(s).toMatchObject({ done: s.ver, fence: runs[1]!.fence, leased: false });
      expect(a!.group.stats()).toMatchObject({ runs: 2, followUps: 1, waiting: 0, size: 0 });
      expect(a!.group.stats().coalesced).toBeGreaterThan(0);
      expect(b!.group.stats()).toMatchObject({ runs: 0, waiting: 0, size: 0 });
      expect(c!.group.stats()).toMatchObject({ runs: 0, waiting: 0, size: 0 });
    });

    it('a caller on pod B resolves on the wake-up when pod A’s push covering it finishes', async () => {
      const { pods } = await fleet(2);
      const [a, b] = pods;
      const gate = deferred();
      const { runs, run } = recorder(gate.promise);
      const first = a!.group.do('k', run('a'), { args: [1] });
      await until(() => runs.length === 1);
      const onB = track(b!.group.do('k', run('b'), { args: [2] }));
      await until(() => b!.group.stats().events === 1);
      await sleep(50);
      expect(onB.state.status).toBe('pending');

      const released = Date.now();
      gate.resolve();
      await until(() => onB.state.status !== 'pending');
      expect(onB.state).toEqual({ status: 'fulfilled', value: undefined });
      // Settled by the wake-up, not by a lease running out (10 s).
      expect(Date.now() - released).toBeLessThan(1_000);
      expect(runs.map((r) => [r.pod, r.args])).toEqual([
        ['a', [1]],
        ['a', [2]],
      ]);
      await expect(first).resolves.toBe('a:[1]');
    });

    it('a push that throws rejects its own callers; ABORT keeps the work pending; RECOVER retries it', async () => {
      const { pods, state } = await fleet(2, { retry: { attempts: 3, backoffMs: 300 } });
      const [a, b] = pods;
      const gate = deferred();
      const runs: unknown[][] = [];
      const push = async (args: unknown[]) => {
        runs.push(args);
        if (runs.length === 1) {
          await gate.promise;
          throw new Error('downstream 503');
        }
        return 'ok';
      };
      const first = a!.group.do('k', push, { args: [1] });
      await until(() => runs.length === 1);
      const later = b!.group.do('k', push, { args: [2] });
      await until(() => b!.group.stats().events === 1);
      gate.resolve();

      await expect(first).rejects.toThrow('downstream 503');
      // Released, still pending: nothing is pushed until the retry (backoff 300 ms).
      await eventually(async () => !(await state('k')).leased);
      expect(await state('k')).toMatchObject({ ver: 2, done: 0, leased: false });
      expect(runs).toHaveLength(1);

      // The retry goes through RECOVER, with the newest args; B's caller was not rejected.
      await expect(later).resolves.toBeUndefined();
      expect(runs).toEqual([[1], [2]]);
      expect(await state('k')).toMatchObject({ ver: 2, done: 2, leased: false });
      expect(a!.group.stats()).toMatchObject({ failures: 1, recovered: 1, runs: 2 });
    });

    it('the fence grows strictly with every run, whichever pod runs', async () => {
      const { pods } = await fleet(3);
      const fences: number[] = [];
      for (let i = 0; i < 7; i++) {
        await pods[i % 3]!.group.do('k', async (_args, { fence }) => fences.push(fence), {
          args: [i],
        });
      }
      expect(fences).toHaveLength(7);
      fences.reduce((a, b) => (expect(b).toBeGreaterThan(a), b));
    });
  });

  describe('callers never hang', () => {
    it('a caller that no push covers rejects with SingleflightTimeoutError after waitTimeoutMs', async () => {
      const { pods, namespace, state } = await fleet(1, { waitTimeoutMs: 300 });
      await deadRunner(suite.raw.client, namespace, 'k', [0], 5_000);
      const started = Date.now();
      const error = await rejectionOf(pods[0]!.group.do('k', async () => 'never', { args: [1] }));
      expect(error).toBeInstanceOf(SingleflightTimeoutError);
      expect(error).toMatchObject({ key: 'k', timeout: 300 });
      expect((error as Error).message).toContain('waitTimeoutMs');
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      // The write stays recorded: whoever takes the key over pushes it.
      expect(await state('k')).toMatchObject({ ver: 2, done: 0, args: [1], leased: true });
      expect(pods[0]!.group.stats()).toMatchObject({ timeouts: 1, waiting: 0 });
    });

    it('close() rejects waiting callers with an AbortError and leaves their writes in Redis', async () => {
      const { pods, namespace, state } = await fleet(1);
      await deadRunner(suite.raw.client, namespace, 'k', [0], 5_000);
      const waiting = pods[0]!.group.do('k', async () => 'never', { args: [1] });
      await until(() => pods[0]!.group.stats().events === 1);
      await pods[0]!.group.close();
      const error = await rejectionOf(waiting);
      expect(error).toBeInstanceOf(SingleflightAbortError);
      expect(await state('k')).toMatchObject({ ver: 2, done: 0, args: [1] });
      expect(pods[0]!.group.stats()).toMatchObject({ waiting: 0, size: 0 });
    });
  });

  describe('leases', () => {
    it('a push longer than the lease keeps it by renewal: no second runner', async () => {
      const { pods, state } = await fleet(2, { leaseMs: 300, recoverSlackMs: 10 });
      const [a, b] = pods;
      const down = new Downstream();
      const first = a!.group.do(
        'k',
        down.push('a', () => 1_000),
        { args: [1] },
      );
      await sleep(50);
      const second = b!.group.do(
        'k',
        down.push('b', () => 50),
        { args: [2] },
      );
      await sleep(650); // two lease lengths into the push
      expect(await state('k')).toMatchObject({ leased: true });
      await Promise.all([first, second]);
      expect(down.maxConcurrent).toBe(1);
      expect(down.of('k').map((w) => [w.pod, w.args])).toEqual([
        ['a', [1]],
        ['a', [2]],
      ]);
      expect(a!.group.stats()).toMatchObject({ leaseLost: 0, runs: 2 });
    });

    it('a lost lease aborts the push’s signal; FINISH -1 queues the key again; the newest state lands last', async () => {
      const { pods, namespace, newest } = await fleet(2, { leaseMs: 300, recoverSlackMs: 10 });
      const [a, b] = pods;
      const down = new Downstream();
      const { lease } = redisKeys(namespace, 'k');
      const signals: AbortSignal[] = [];
      const slow = async (args: unknown[], context: WriteRunContext) => {
        signals.push(context.signal);
        // A stalled runner: it does not look at its signal.
        return down.push('a', () => 400)(args, context);
      };
      const first = a!.group.do('k', slow, { args: [1] });
      await until(() => signals.length === 1);
      // Another runner takes the key over (as after a stall past the lease).
      await suite.raw.client.set(lease, 'other-runner', { PX: 250 });
      const second = b!.group.do(
        'k',
        down.push('b', () => 20),
        { args: [2] },
      );
      // B takes over when that lease ends and settles every caller before A's stale push lands;
      // A's FINISH then finds the lease gone and queues the key once more.
      await Promise.all([first, second]);
      await until(() => a!.group.stats().leaseLost === 1 && a!.group.stats().size === 0);
      expect(signals[0]!.aborted).toBe(true);
      expect(signals[0]!.reason).toBeInstanceOf(SingleflightAbortError);
      expect(a!.logs.some((line) => line.includes('lost the lease'))).toBe(true);
      // The stale push landed after B's, and the push that followed it carries the newest state.
      expect(down.of('k').map((w) => w.args)).toContainEqual([1]);
      expect(down.last('k')).toMatchObject({ pod: 'a', args: newest('k') });
      expect(await redisState(suite.raw.client, namespace, 'k')).toMatchObject({ leased: false });
    });

    it('a crashed runner: the recovery timer of a pod that saw an event takes the key over', async () => {
      const { pods, namespace, state } = await fleet(1, { recoverSlackMs: 10 });
      await deadRunner(suite.raw.client, namespace, 'k', [0], 300);
      const deadFence = (await state('k')).fence;
      const started = Date.now();
      const { runs, run } = recorder();
      await expect(pods[0]!.group.do('k', run('a'), { args: [1] })).resolves.toBe('a:[1]');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(runs.map((r) => r.args)).toEqual([[1]]);
      expect(runs[0]!.fence).toBeGreaterThan(deadFence);
      expect(await state('k')).toMatchObject({ ver: 2, done: 2, leased: false });
      expect(pods[0]!.group.stats()).toMatchObject({ recovered: 1, size: 0 });
    });
  });

  describe('the sweep', () => {
    it('pushes a key with ver > done and no lease that no live pod saw, where a push is registered', async () => {
      const { pods, namespace, state } = await fleet(2, { sweepEveryMs: 0 });
      const [withHandler, without] = pods;
      await deadRunner(suite.raw.client, namespace, 'user:7', [42], 30);
      await deadRunner(suite.raw.client, namespace, 'other', [1], 30);
      await sleep(60);
      const deadFence = (await state('user:7')).fence;
      const { runs, run } = recorder();
      withHandler!.group.handle('user', run('a'));

      await without!.group.sweep();
      expect(without!.logs.some((line) => line.includes('handle('))).toBe(true);
      expect(await state('user:7')).toMatchObject({ ver: 1, done: 0 });

      await withHandler!.group.sweep();
      await until(() => runs.length === 1);
      expect(runs[0]).toMatchObject({ args: [42] });
      expect(runs[0]!.fence).toBeGreaterThan(deadFence);
      await eventually(async () => (await state('user:7')).done === 1);
      // A key no registered push matches stays for a pod that has one.
      expect(await state('other')).toMatchObject({ ver: 1, done: 0 });
    });

    it('runs every sweepEveryMs on its own', async () => {
      const { namespace, state } = await fleet(0);
      await deadRunner(suite.raw.client, namespace, 'user:8', [8], 30);
      const connection = await connect(suite.redis.url);
      const group = new DistributedWriteGroup(connection.coordinator, {
        namespace,
        sweepEveryMs: 150,
      });
      suite.cleanups.push(async () => {
        await group.close();
        await connection.close();
      });
      const { runs, run } = recorder();
      group.handle('user', run('sweeper'));
      await group.init();
      await until(() => runs.length === 1, 3_000);
      await eventually(async () => (await state('user:8')).done === 1);
      expect(group.stats().sweeps).toBeGreaterThanOrEqual(1);
    });

    it('queues ledger.pending() keys through the protocol; started/finished bracket each push', async () => {
      const calls: string[] = [];
      const ledger: WriteLedger = {
        started: async (key, fence) => void calls.push(`started ${key} ${fence}`),
        finished: async (key, fence) => void calls.push(`finished ${key} ${fence}`),
        async *pending() {
          yield { key: 'user:9', args: [9] };
        },
      };
      const { pods, state } = await fleet(1, { ledger });
      const { runs, run } = recorder();
      pods[0]!.group.handle('user', run('a'));
      await pods[0]!.group.sweep();
      await until(() => runs.length === 1);
      expect(runs[0]).toMatchObject({ args: [9] });
      await eventually(async () => (await state('user:9')).done === 1);
      const fence = runs[0]!.fence;
      expect(calls).toEqual([`started user:9 ${fence}`, `finished user:9 ${fence}`]);
    });
  });

  describe('Redis unavailable', () => {
    it('Redis killed mid-burst: calls run in-process, every call resolves, the newest state lands last', async () => {
      const own = await startRedis();
      suite.cleanups.push(() => own.stop());
      const { pods } = await fleet(3, { breakerMs: 300 }, own.url);
      const down = new Downstream();
      const calls: Promise<unknown>[] = [];
      const newestOf = new Map<string, number>();
      for (let seq = 1; seq <= 40; seq++) {
        const pod = pods[seq % 3]!;
        newestOf.set(pod.name, seq);
        calls.push(
          pod.group.do(
            'k',
            down.push(pod.name, () => 30),
            { args: [seq] },
          ),
        );
        if (seq === 15) await own.kill();
        await sleep(5);
      }
      await sleep(100);
      calls.push(
        pods[0]!.group.do(
          'k',
          down.push('a', () => 30),
          { args: [41] },
        ),
      );
      newestOf.set('a', 41);
      const outcomes = await Promise.allSettled(calls);
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      // The newest event's push landed last; each pod's last push carries its own newest call.
      expect(down.last('k')!.args).toEqual([41]);
      for (const pod of pods) {
        expect(down.writes.findLast((w) => w.pod === pod.name)!.args).toEqual([
          newestOf.get(pod.name),
        ]);
      }
      for (const pod of pods) {
        expect(pod.group.stats().localFallbacks).toBeGreaterThan(0);
        // Logged once per outage, not once per call.
        expect(pod.logs.filter((line) => line.includes('in-process MergeWrites'))).toHaveLength(1);
        expect(pod.group.stats()).toMatchObject({ waiting: 0 });
      }
    });

    it('a failure opens the breaker (stats().breakerOpen), logged once; the reconnection logs Redis back', async () => {
      const connection = await connect(suite.redis.url);
      const real = connection.coordinator;
      let broken = true;
      const ready = new Set<() => void>();
      const coordinator = wrapCoordinator(real, {
        eval: (...args) => (broken ? Promise.reject(new Error('READONLY')) : real.eval(...args)),
        onReady: (listener) => {
          ready.add(listener);
          return () => void ready.delete(listener);
        },
      });
      const logs: string[] = [];
      const group = new DistributedWriteGroup(
        coordinator,
        { namespace: `t${++namespaces}`, sweepEveryMs: 0, breakerMs: 60_000 },
        (message) => logs.push(message),
      );
      await group.init();
      suite.cleanups.push(async () => {
        await group.close();
        await connection.close();
      });
      const push = async ([n]: [number]) => n;
      await expect(group.do('k', push, { args: [1] })).resolves.toBe(1);
      await expect(group.do('k', push, { args: [2] })).resolves.toBe(2);
      expect(group.stats()).toMatchObject({
        breakerOpen: true,
        coordinationErrors: 1,
        localFallbacks: 2,
      });
      expect(logs).toHaveLength(1);
      broken = false;
      for (const listener of ready) listener();
      expect(group.stats().breakerOpen).toBe(false);
      expect(logs).toHaveLength(2);
      expect(logs[1]).toMatch(/MergeWrites \(namespace "t\d+"\) is back/);
    });

    it('Redis hung (SIGSTOP): a call falls back after the adapter’s timeout and resolves', async () => {
      const own = await startRedis();
      suite.cleanups.push(() => own.stop());
      const { pods } = await fleet(1, { breakerMs: 1_000 }, own.url);
      const down = new Downstream();
      own.freeze();
      const started = Date.now();
      await expect(
        pods[0]!.group.do(
          'k',
          down.push('a', () => 5),
          { args: [1] },
        ),
      ).resolves.toBe('a:[1]');
      expect(Date.now() - started).toBeLessThan(1_500);
      // Within breakerMs the next call does not wait for Redis at all.
      const next = Date.now();
      await pods[0]!.group.do(
        'k',
        down.push('a', () => 5),
        { args: [2] },
      );
      expect(Date.now() - next).toBeLessThan(200);
      expect(pods[0]!.group.stats()).toMatchObject({ localFallbacks: 2 });
      own.thaw();
    });
  });

  describe('re-entry', () => {
    /** A push that writes its own key (not awaiting it), the first time it runs. */
    function reentrant(group: DistributedWriteGroup, afterAwait = false) {
      const inner: Promise<unknown>[] = [];
      const run = async (args: number[]): Promise<string> => {
        if (afterAwait) await Promise.resolve();
        if (inner.length === 0) inner.push(group.do('user:1', run, { args: [args[0]! + 1] }));
        return `pushed ${args[0]}`;
      };
      return { inner, run };
    }

    it('a push that writes its own key before its first await rejects that call at once', async () => {
      const { pods } = await fleet(1);
      const group = pods[0]!.group;
      const { inner, run } = reentrant(group);
      await expect(group.do('user:1', run, { args: [1] })).resolves.toBe('pushed 1');
      expect(inner).toHaveLength(1);
      const error = await rejectionOf(inner[0]!);
      expect(error).toBeInstanceOf(SingleflightReentryError);
      expect((error as Error).message).toContain('"user:1"');
      // It recorded no event, and the key is free: the next call pushes at once.
      expect(group.stats()).toMatchObject({ events: 1, runs: 1 });
      await expect(group.do('user:1', run, { args: [3] })).resolves.toBe('pushed 3');
    });

    it('with detectAsyncReentry, a push that writes its own key after an await too', async () => {
      const { pods } = await fleet(1, { detectAsyncReentry: true });
      const group = pods[0]!.group;
      const { inner, run } = reentrant(group, true);
      await expect(group.do('user:1', run, { args: [1] })).resolves.toBe('pushed 1');
      expect(await rejectionOf(inner[0]!)).toBeInstanceOf(SingleflightReentryError);
      expect(group.stats()).toMatchObject({ events: 1, runs: 1 });
      // Another key from inside a push is no re-entry.
      const nested = await group.do(
        'user:1',
        async ([v]: number[]) =>
          group.do('user:2', async ([w]: number[]) => `user:2 ${w}`, { args: [v] }),
        { args: [5] },
      );
      expect(nested).toBe('user:2 5');
    });

    it('in-process too (before init, or with Redis down): the local WriteGroup rejects it', async () => {
      for (const afterAwait of [false, true]) {
        const group = new DistributedWriteGroup(
          suite.raw.coordinator,
          { sweepEveryMs: 0, detectAsyncReentry: afterAwait },
          () => {},
        );
        suite.cleanups.push(() => group.close());
        const { inner, run } = reentrant(group, afterAwait);
        await expect(group.do('user:1', run, { args: [1] })).resolves.toBe('pushed 1');
        expect(await rejectionOf(inner[0]!)).toBeInstanceOf(SingleflightReentryError);
        expect(group.stats()).toMatchObject({ events: 0, localFallbacks: 2 });
        await expect(group.do('user:1', run, { args: [3] })).resolves.toBe('pushed 3');
      }
    });
  });

  describe('bad input', () => {
    it('arguments the codec cannot carry fail the call with a SingleflightArgumentError naming the key', async () => {
      const { pods } = await fleet(1);
      const group = pods[0]!.group;
      const run = async () => 'never';
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      class Entity {}
      for (const args of [
        [() => 1],
        [{ m: new Map([[1, cyclic]]) }],
        [Symbol('s')],
        [new Entity()],
      ]) {
        const error = await rejectionOf(group.do('user:1', run, { args: args }));
        expect(error).toBeInstanceOf(SingleflightArgumentError);
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toContain('"user:1"');
        expect((error as Error).message).toContain('argument 1');
        expect((error as Error).message).toContain('codec');
      }
      expect(group.stats()).toMatchObject({ calls: 0, events: 0 });
      await expect(group.do(42 as never, run, { args: [] })).rejects.toBeInstanceOf(
        SingleflightArgumentError,
      );
      await expect(group.do('k', 'run' as never, { args: [] })).rejects.toBeInstanceOf(
        SingleflightArgumentError,
      );
    });

    it('args default to []: the push gets an empty list, as WriteGroup.do calls fn()', async () => {
      const { pods } = await fleet(1);
      await expect(pods[0]!.group.do('k', async (args) => args)).resolves.toEqual([]);
    });

    it('a coordinator of your own needs no publish(): no engine publishes from the client', async () => {
      const own = wrapCoordinator(suite.raw.coordinator, {});
      expect('publish' in own).toBe(false);
      const flight = new DistributedFlight(own, { namespace: `t${++namespaces}` });
      const group = new DistributedWriteGroup(own, { namespace: `t${++namespaces}` });
      await Promise.all([flight.close(), group.close()]);
    });

    it('options are checked when the group is made', () => {
      const coordinator = suite.raw.coordinator;
      expect(() => new DistributedWriteGroup({} as never)).toThrow(
        /DistributedWriteGroup needs a RedisCoordinator/,
      );
      for (const options of [
        { leaseMs: 0 },
        { leaseMs: 1.5 },
        { waitTimeoutMs: 0 },
        { sweepEveryMs: -1 },
        // Timers: past 2^31 - 1 ms they would fire after 1 ms.
        { leaseMs: 2 ** 31 },
        { waitTimeoutMs: 2 ** 31 },
        { sweepEveryMs: 2 ** 31 },
        { breakerMs: 2 ** 31 },
        { recoverSlackMs: 2 ** 31 },
        { retry: { attempts: 2, backoffMs: 2 ** 31 } },
        { namespace: '' },
        { retry: { attempts: 0 } },
        { ledger: { started: async () => {} } },
        { detectAsyncReentry: 'yes' },
        { lease: 10 },
      ]) {
        expect(() => new DistributedWriteGroup(coordinator, options as never)).toThrow(
          SingleflightOptionsError,
        );
      }
    });
  });
});
