/**
 * The distributed singleflight (Protocol A) against the in-process Group alone, on a private
 * redis-server. Four "pods" live in this process, each with its own Group, DistributedFlight and
 * Redis connections (in production they are separate processes; the tests cover that).
 *
 *   D-SF     bursts of 4 pods x 250 concurrent callers of one key (work: 20 ms): backend calls,
 *            Redis round trips per burst, and the latency coordination adds (p99, and the burst).
 *   D-CRASH  a leader that never completes (crashed: it neither renews nor publishes; lease 1 s):
 *            how long 3 other pods x 250 callers take to get a value (takeover + work).
 *
 * Skipped, with a message, when redis-server is not on PATH.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { Group } from '../../lib/core/index.js';
import { DistributedFlight } from '../../lib/redis/index.js';
import type { RedisCoordinator } from '../../lib/redis/coordinator/coordinator.interface.js';
import { COMPLETE } from '../../lib/redis/flight/flight.scripts.js';
import { EXTEND } from '../../lib/redis/shared/lease.scripts.js';
import { nodeRedisAdapter } from '../../lib/redis/coordinator/node-redis.adapter.js';
import { commandCalls, wrapCoordinator } from '../../test/support/redis-coordinator.js';
import { type RedisServer, startRedis } from '../../test/support/redis-server.js';
import { type Row, type RunInfo, median, registerScenario } from '../harness.js';

const PODS = 4;
const CALLERS = 250;
const WORK_MS = 20;
const CRASH_LEASE_MS = 1000;

type Client = ReturnType<typeof createClient>;

interface BenchPod {
  group: Group;
  flight: DistributedFlight;
}

/** A redis-server and pods with their own connections; made on first use, closed after the scenario. */
class Fleet {
  readonly pods: BenchPod[] = [];
  /** Client-side commands of all pods since the last reset (the adapters' round trips). */
  readonly trips = { eval: 0, get: 0 };
  #server: RedisServer | undefined;
  #clients: Client[] = [];
  #coordinators: RedisCoordinator[] = [];
  stats!: Client;

  static async start(
    pods: number,
    options: ConstructorParameters<typeof DistributedFlight>[1] = {},
  ): Promise<Fleet> {
    const fleet = new Fleet();
    fleet.#server = await startRedis();
    fleet.stats = await fleet.#connect();
    for (let i = 0; i < pods; i++) fleet.pods.push(await fleet.addPod(options));
    return fleet;
  }

  async addPod(
    options: ConstructorParameters<typeof DistributedFlight>[1] = {},
    wrap: (c: RedisCoordinator) => RedisCoordinator = (c) => c,
  ): Promise<BenchPod> {
    const real = nodeRedisAdapter(await this.#connect(), { opTimeoutMs: 250 });
    this.#coordinators.push(real);
    const trips = this.trips;
    const counted = wrapCoordinator(real, {
      eval: (...args) => (trips.eval++, real.eval(...args)),
      get: (key) => (trips.get++, real.get(key)),
    });
    const flight = new DistributedFlight(wrap(counted), options);
    await flight.init();
    return { group: new Group(), flight };
  }

  resetTrips(): void {
    this.trips.eval = this.trips.get = 0;
  }

  async close(): Promise<void> {
    for (const pod of this.pods) await pod.flight.close();
    for (const coordinator of this.#coordinators) await coordinator.close();
    for (const client of this.#clients) client.destroy();
    await this.#server?.stop();
  }

  async #connect(): Promise<Client> {
    const client = createClient({ url: this.#server!.url, disableOfflineQueue: true });
    client.on('error', () => {});
    await client.connect();
    this.#clients.push(client);
    return client;
  }
}

/** One fleet per scenario, started by its first run and closed by its summary. */
function lazyFleet(start: () => Promise<Fleet>) {
  let fleet: Promise<Fleet> | undefined;
  return {
    get: () => (fleet ??= start()),
    close: () => {
      const closing = fleet?.then((f) => f.close());
      fleet = undefined;
      return closing;
    },
  };
}

let keys = 0;
/** A fresh key per burst: a recent result is otherwise reused (reuseRecentResult). */
const nextKey = () => `bench:${process.pid}:${++keys}`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Fires `callers` concurrent calls on every pod; each caller's latency in ms. */
async function burst(
  pods: BenchPod[],
  call: (pod: BenchPod, key: string) => Promise<unknown>,
): Promise<{ latencies: number[]; key: string }> {
  const key = nextKey();
  const latencies: number[] = [];
  const one = async (pod: BenchPod) => {
    const started = performance.now();
    await call(pod, key);
    latencies.push(performance.now() - started);
  };
  await Promise.all(pods.flatMap((pod) => Array.from({ length: CALLERS }, () => one(pod))));
  return { latencies, key };
}

// ---------------------------------------------------------------------------------------------
// D-SF: 4 pods x 250, one key
// ---------------------------------------------------------------------------------------------

const sf = lazyFleet(() => Fleet.start(PODS));
/** p99 latency (ms) of every run, per contender, for the summary. */
const p99s = { local: [] as number[], distributed: [] as number[] };
const tripsPerBurst: number[] = [];

async function localBurst(): Promise<RunInfo> {
  const pods = Array.from({ length: PODS }, () => ({ group: new Group() }));
  let calls = 0;
  const work = async () => {
    calls++;
    await sleep(WORK_MS);
    return 'value';
  };
  const { latencies } = await burst(pods as BenchPod[], (pod, key) => pod.group.do(key, work));
  const p99 = percentile(latencies, 99);
  p99s.local.push(p99);
  return {
    check: { ok: calls === PODS, text: `${calls} backend calls, p99 ${p99.toFixed(1)} ms` },
  };
}

async function distributedBurst(): Promise<RunInfo> {
  const fleet = await sf.get();
  let calls = 0;
  const work = async () => {
    calls++;
    await sleep(WORK_MS);
    return 'value';
  };
  fleet.resetTrips();
  const before = await commandCalls(fleet.stats);
  const { latencies } = await burst(fleet.pods, (pod, key) =>
    pod.group.do(key, () => pod.flight.run(key, work)),
  );
  const after = await commandCalls(fleet.stats);
  const server = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
  const { trips } = fleet;
  const total = trips.eval + trips.get;
  tripsPerBurst.push(total);
  const p99 = percentile(latencies, 99);
  p99s.distributed.push(p99);
  const text =
    `${calls} backend call, ${total} round trips (${trips.eval} EVALSHA + ${trips.get} GET; ` +
    `server: ${server('evalsha') + server('eval')} EVALSHA, ${server('get')} GET incl. scripts'), ` +
    `p99 ${p99.toFixed(1)} ms`;
  return { check: { ok: calls === 1, text } };
}

// ---------------------------------------------------------------------------------------------
// D-CRASH: takeover after a leader that never completes
// ---------------------------------------------------------------------------------------------

const crash = lazyFleet(async () => {
  const fleet = await Fleet.start(PODS - 1, { leaseMs: CRASH_LEASE_MS });
  // The crashed leader: it won the lease, then went silent (no renewal, no COMPLETE reaches Redis).
  const silent = (c: RedisCoordinator) =>
    wrapCoordinator(c, {
      eval: (script, keys, args) =>
        script === EXTEND || script === COMPLETE ? Promise.resolve(1) : c.eval(script, keys, args),
    });
  fleet.pods.unshift(await fleet.addPod({ leaseMs: CRASH_LEASE_MS }, silent));
  return fleet;
});
const recoveries: number[] = [];

async function crashedLeader(): Promise<RunInfo> {
  const fleet = await crash.get();
  const [dead, ...alive] = fleet.pods;
  const key = nextKey();
  let started = false;
  let calls = 0;
  // Settles long after the others are done; its outcome reaches no one (it "crashed").
  void dead!.flight.run(key, async () => {
    started = true;
    await sleep(4 * CRASH_LEASE_MS);
    return 'never published';
  });
  while (!started) await sleep(1);
  const t0 = performance.now();
  const work = async () => {
    calls++;
    await sleep(WORK_MS);
    return 'value';
  };
  await Promise.all(
    alive.flatMap((pod) =>
      Array.from({ length: CALLERS }, () => pod.group.do(key, () => pod.flight.run(key, work))),
    ),
  );
  const ms = performance.now() - t0;
  recoveries.push(ms);
  return {
    check: {
      ok: calls === 1,
      text: `every caller answered ${ms.toFixed(0)} ms after the leader went silent, ${calls} takeover call`,
    },
  };
}

// ---------------------------------------------------------------------------------------------

if (spawnSync('redis-server', ['--version']).error) {
  console.log(
    'bench: D-SF and D-CRASH skipped: redis-server is not on PATH (Debian: apt-get install -y redis-server).',
  );
} else {
  registerScenario({
    id: 'D-SF',
    title: `${PODS} pods x ${CALLERS} callers of one key, work ${WORK_MS} ms (Redis on loopback)`,
    unit: 'ns',
    per: 'call',
    ops: PODS * CALLERS,
    contenders: [
      { name: `Group only (${PODS} backend calls)`, run: localBurst },
      { name: 'Group + DistributedFlight', run: distributedBurst },
    ],
    summarize: summarizeSf,
  });
  registerScenario({
    id: 'D-CRASH',
    title: `leader crashed after winning the lease (lease ${CRASH_LEASE_MS} ms): time to answer`,
    unit: 'ns',
    per: 'burst',
    ops: 1,
    warmup: 0,
    warmupShare: 0,
    rounds: 5,
    contenders: [{ name: `takeover (${PODS - 1} pods x ${CALLERS})`, run: crashedLeader }],
    summarize: summarizeCrash,
  });
}

function summarizeSf(rows: readonly Row[]): string[] {
  void sf.close();
  const local = median(p99s.local);
  const distributed = median(p99s.distributed);
  const burstRatio = rows[1]?.vsBaseline ?? NaN;
  return [
    `D-SF: backend calls per burst ${PODS} -> 1; Redis round trips per burst (client side) ` +
      `median ${median(tripsPerBurst)} (max ${Math.max(...tripsPerBurst)}) for ${PODS * CALLERS} callers.`,
    `D-SF: p99 latency ${local.toFixed(1)} ms (Group only) vs ${distributed.toFixed(1)} ms ` +
      `(with coordination): ${(distributed / local).toFixed(3)}x, +${(distributed - local).toFixed(1)} ms ` +
      `(medians of ${p99s.local.length} runs); whole burst ${burstRatio.toFixed(3)}x (median of per-round ratios).`,
  ];
}

function summarizeCrash(): string[] {
  void crash.close();
  return [
    `D-CRASH: after a leader crash (lease ${CRASH_LEASE_MS} ms, work ${WORK_MS} ms) callers got a ` +
      `value after ${median(recoveries).toFixed(0)} ms (median; ${Math.min(...recoveries).toFixed(0)}` +
      ` .. ${Math.max(...recoveries).toFixed(0)} ms over ${recoveries.length} runs).`,
  ];
}
