import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { type Pod, spawnPod } from '../../support/pods.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { until } from '../../support/until.js';
import type { PodMessage, SetupMessage } from './pods/flight.pod.js';

// Pods as processes: each runs its own Group + DistributedFlight + Redis connections (a pod
// script under tsx) against one private redis-server; the backend reports every run over IPC, so
// "backend calls" is counted here, across processes.

jest.setTimeout(30_000);

const SCRIPT = fileURLToPath(new URL('./pods/flight.pod.ts', import.meta.url));
const POOL = 8;

let pool: Pod<PodMessage>[] = [];
let server: RedisServer | undefined;
const serverPids: number[] = [];
let rounds = 0;

const alive = (pod: Pod<PodMessage>) =>
  pod.process.exitCode === null && pod.process.signalCode === null;

async function spawn(name: string): Promise<Pod<PodMessage>> {
  const pod = spawnPod<PodMessage>(SCRIPT, { POD: name });
  await pod.next((m) => m.type === 'up', 30_000);
  return pod;
}

/** `n` live pods of the pool; a pod killed by an earlier test is replaced. */
async function fleet(n: number): Promise<Pod<PodMessage>[]> {
  pool = await Promise.all(pool.map((pod, i) => (alive(pod) ? pod : spawn(`p${i}`))));
  return pool.slice(0, n);
}

async function redis(): Promise<RedisServer> {
  server = await startRedis();
  serverPids.push(server.pid);
  return server;
}

interface Outcome {
  /** Pods whose backend ran, one entry per run. */
  calls: string[];
  done: Extract<PodMessage, { type: 'done' }>[];
  logs: string[];
  ok: number;
  errors: string[];
  results: Set<string>;
  maxLatencyMs: number;
}

/**
 * One round: every pod sets up (connects, subscribes), then all start on one barrier message and
 * fire their callers at once. `during` runs meanwhile (kill a pod, kill or freeze Redis).
 */
async function round(
  pods: Pod<PodMessage>[],
  setup: Partial<SetupMessage> & { url: string },
  during?: (firstCall: () => Promise<Pod<PodMessage>>) => Promise<void>,
): Promise<Outcome> {
  const id = ++rounds;
  const message: SetupMessage = {
    type: 'setup',
    round: id,
    key: `user:${id}`,
    callers: 250,
    workMs: 200,
    opTimeoutMs: 250,
    options: {},
    ...setup,
  };
  const ofRound = <T extends PodMessage['type']>(type: T) =>
    pods.flatMap((pod) =>
      pod.messages.filter(
        (m): m is Extract<PodMessage, { type: T }> =>
          m.type === type && 'round' in m && m.round === id,
      ),
    );
  for (const pod of pods) pod.send(message);
  await Promise.all(pods.map((pod) => pod.next((m) => m.type === 'ready' && m.round === id)));
  for (const pod of pods) pod.send({ type: 'go', round: id });

  const firstCall = async () => {
    await until(() => ofRound('call').length > 0, 10_000);
    const name = ofRound('call')[0]!.pod;
    return pods.find((pod) => pod.messages.some((m) => m.type === 'up' && m.pod === name))!;
  };
  await during?.(firstCall);
  const done = await Promise.all(
    pods
      .filter(alive)
      .map(
        (pod) =>
          pod.next((m) => m.type === 'done' && m.round === id) as Promise<
            Extract<PodMessage, { type: 'done' }>
          >,
      ),
  );
  return {
    calls: ofRound('call').map((m) => m.pod),
    done,
    logs: ofRound('log').map((m) => `${m.pod}: ${m.message}`),
    ok: done.reduce((sum, d) => sum + d.ok, 0),
    errors: done.flatMap((d) => d.errors),
    results: new Set(done.flatMap((d) => d.results)),
    maxLatencyMs: Math.max(...done.map((d) => d.maxLatencyMs)),
  };
}

beforeAll(async () => {
  pool = await Promise.all(Array.from({ length: POOL }, (_, i) => spawn(`p${i}`)));
}, 60_000);

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

afterAll(async () => {
  await Promise.all(pool.map((pod) => pod.kill()));
  // Every redis-server these tests started is gone.
  for (const pid of serverPids) expect(() => process.kill(pid, 0)).toThrow();
});

describe('DistributedFlight across processes (real Redis)', () => {
  it('4 pods x 250 concurrent callers of one key: 1 backend call, 1 result for all 1000', async () => {
    const { url } = await redis();
    const outcome = await round(await fleet(4), { url });
    expect(outcome.calls).toHaveLength(1);
    expect(outcome.ok).toBe(1000);
    expect(outcome.errors).toEqual([]);
    expect(outcome.results.size).toBe(1);
    const leaders = outcome.done.filter((d) => d.stats.leader === 1);
    expect(leaders).toHaveLength(1);
  });

  it('8 pods x 250: still 1 backend call', async () => {
    const { url } = await redis();
    const outcome = await round(await fleet(8), { url });
    expect(outcome.calls).toHaveLength(1);
    expect(outcome.ok).toBe(2000);
    expect(outcome.results.size).toBe(1);
  });

  it('the leader process is killed mid-flight: one takeover after the lease, no surviving caller fails', async () => {
    const { url } = await redis();
    const pods = await fleet(4);
    const outcome = await round(
      pods,
      { url, workMs: 300, options: { leaseMs: 1000 } },
      async (firstCall) => {
        await (await firstCall()).kill('SIGKILL');
      },
    );
    // The killed leader's run, then one new leader's for the whole fleet.
    expect(outcome.calls.length).toBeLessThanOrEqual(2);
    expect(outcome.done).toHaveLength(3);
    expect(outcome.ok).toBe(750);
    expect(outcome.errors).toEqual([]);
    expect(outcome.results.size).toBe(1);
    // Taken over after about the lease, not after waitTimeoutMs (30 s).
    expect(outcome.maxLatencyMs).toBeLessThan(5000);
  });

  it('Redis is killed mid-flight: no caller fails, at most one backend call per pod', async () => {
    const redisServer = await redis();
    const outcome = await round(
      await fleet(4),
      // A lease of 10 s: followers must not sleep it out.
      { url: redisServer.url, workMs: 600, options: { leaseMs: 10_000 } },
      async (firstCall) => {
        await firstCall();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await redisServer.kill();
      },
    );
    expect(outcome.errors).toEqual([]);
    expect(outcome.ok).toBe(1000);
    expect(outcome.calls.length).toBeLessThanOrEqual(4);
    expect(new Set(outcome.calls).size).toBe(outcome.calls.length);
    expect(outcome.maxLatencyMs).toBeLessThan(5000);
    // Each pod logs the outage once at most.
    const failures = outcome.logs.filter((line) => line.includes('failed'));
    expect(new Set(failures.map((line) => line.split(':')[0])).size).toBe(failures.length);
  });

  it('Redis freezes mid-flight (SIGSTOP): no caller fails, one call per pod, done within about opTimeout + work', async () => {
    const redisServer = await redis();
    const opTimeoutMs = 200;
    const workMs = 500;
    const leaseMs = 1500;
    const outcome = await round(
      await fleet(4),
      { url: redisServer.url, workMs, opTimeoutMs, options: { leaseMs } },
      async (firstCall) => {
        await firstCall();
        await new Promise((resolve) => setTimeout(resolve, 100));
        redisServer.freeze();
      },
    );
    redisServer.thaw();
    expect(outcome.errors).toEqual([]);
    expect(outcome.ok).toBe(1000);
    expect(outcome.calls.length).toBeLessThanOrEqual(4);
    expect(new Set(outcome.calls).size).toBe(outcome.calls.length);
    // A waiting follower notices within leaseMs / 3 (it polls) + opTimeout, then runs the work:
    // about 1.2 s here; the bound is generous for a loaded 2-core machine.
    expect(outcome.maxLatencyMs).toBeLessThan(leaseMs / 3 + opTimeoutMs + workMs + 2500);
  });

  it('every wake-up message is lost: followers still get the one result', async () => {
    const { url } = await redis();
    const outcome = await round(await fleet(4), {
      url,
      deaf: true,
      workMs: 200,
      options: { leaseMs: 1000 },
    });
    expect(outcome.calls).toHaveLength(1);
    expect(outcome.ok).toBe(1000);
    expect(outcome.results.size).toBe(1);
  });
});
