import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { DistributedWriteOptions } from '../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { type Pod, spawnPod } from '../../support/pods.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { until } from '../../support/until.js';
import { prng } from '../../support/prng.js';
import { type Connection, connect, eventually, redisState } from '../../support/write-fleet.js';
import type { PodMessage } from './pods/write.pod.js';

// Four pods as processes, each with its own DistributedWriteGroup and Redis connections, against
// one private redis-server. Each push is an HTTP POST {key, seq, fence, pod} to a downstream in
// this process, which holds it for 20-100 ms and records, per key, overlapping pushes and the
// order in which writes land. The test issues the events, each with a global sequence number.
//
// "Newest" across pods is the order in which Redis receives the events. So that it equals the
// order of the sequence numbers, an event for a key goes to another pod than the previous one
// only once that previous event has reached Redis (the pod reports each EVENT's reply); events
// that stay on one pod need no wait (a pod sends the EVENTs of one key in order).

jest.setTimeout(40_000);

const SCRIPT = fileURLToPath(new URL('./pods/write.pod.ts', import.meta.url));
const PODS = 4;

interface Write {
  key: string;
  seq: number;
  fence: number;
  pod: string;
}

/** The HTTP downstream: concurrency and landing order of pushes, per key. */
class Downstream {
  readonly writes: Write[] = [];
  readonly maxConcurrent = new Map<string, number>();
  readonly #active = new Map<string, number>();
  readonly #random = prng(7);
  /** Called as a push arrives, before it is held (a test kills its pod here). */
  onPush: (write: Write) => void = () => {};
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}/push`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve) ?? resolve(undefined));
  }

  reset(): void {
    this.writes.length = 0;
    this.maxConcurrent.clear();
    this.onPush = () => {};
  }

  get busy(): boolean {
    return [...this.#active.values()].some((n) => n > 0);
  }

  of(key: string): Write[] {
    return this.writes.filter((w) => w.key === key);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
      const write = JSON.parse(body) as Write;
      const active = (this.#active.get(write.key) ?? 0) + 1;
      this.#active.set(write.key, active);
      this.maxConcurrent.set(write.key, Math.max(this.maxConcurrent.get(write.key) ?? 0, active));
      this.onPush(write);
      // The write lands after the hold even when its pod died meanwhile, as a real store's would.
      setTimeout(
        () => {
          this.writes.push(write);
          this.#active.set(write.key, this.#active.get(write.key)! - 1);
          res.end('{"ok":true}');
        },
        20 + Math.floor(this.#random() * 80),
      );
    });
  }
}

let redis: RedisServer;
let raw: Connection;
let pods: Pod<PodMessage>[] = [];
const downstream = new Downstream();
let rounds = 0;
const figures: string[] = [];

beforeAll(async () => {
  [redis] = await Promise.all([startRedis(), downstream.start()]);
  raw = await connect(redis.url);
  pods = Array.from({ length: PODS }, (_, i) => spawnPod<PodMessage>(SCRIPT, { POD: `p${i}` }));
  await Promise.all(pods.map((pod) => pod.next((m) => m.type === 'up', 30_000)));
});

afterAll(async () => {
  await Promise.all(pods.map((pod) => pod.kill()));
  await raw?.close();
  await downstream.stop();
  const pid = redis?.pid;
  await redis?.stop();
  if (pid !== undefined && pid > 0) expect(() => process.kill(pid, 0)).toThrow();
  if (process.env.MW_FIGURES) console.log(figures.join('\n'));
});

const alive = (pod: Pod<PodMessage>) =>
  pod.process.exitCode === null && pod.process.signalCode === null;

/** One round: every live pod sets up a group on a fresh namespace; `drive` sends the events. */
async function round(
  options: DistributedWriteOptions,
  drive: (send: (key: string, pod: number) => Promise<number>, dead: Set<number>) => Promise<void>,
) {
  const id = ++rounds;
  const namespace = `pods${id}`;
  const live = pods.filter(alive);
  downstream.reset();
  for (const pod of live) {
    pod.send({
      type: 'setup',
      round: id,
      url: redis.url,
      downstream: downstream.url,
      options: { namespace, ...options },
    });
  }
  await Promise.all(live.map((pod) => pod.next((m) => m.type === 'ready' && m.round === id)));

  const sent: { key: string; seq: number; pod: number }[] = [];
  const last = new Map<string, { pod: number; seq: number }>();
  const dead = new Set<number>();
  let seq = 0;
  const send = async (key: string, pod: number) => {
    const previous = last.get(key);
    if (previous !== undefined && previous.pod !== pod && !dead.has(previous.pod)) {
      const before = pods[previous.pod]!;
      // Ends early if that pod is killed meanwhile: an event it never sent is lost with it.
      await until(
        () =>
          !alive(before) ||
          before.messages.some(
            (m) => m.type === 'evented' && m.round === id && m.key === key && m.seq >= previous.seq,
          ),
        10_000,
      );
    }
    seq++;
    last.set(key, { pod, seq });
    sent.push({ key, seq, pod });
    pods[pod]!.send({ type: 'event', round: id, key, seq });
    return seq;
  };
  const started = Date.now();
  await drive(send, dead);
  const lastSent = Date.now();

  // Every caller on a live pod settles.
  const settled = () =>
    pods.flatMap((pod) =>
      pod.messages.filter(
        (m): m is Extract<PodMessage, { type: 'settled' }> =>
          m.type === 'settled' && m.round === id,
      ),
    );
  const expected = sent.filter((e) => !dead.has(e.pod)).length;
  await until(() => settled().length >= expected, 20_000);
  const settleMs = Date.now() - lastSent;
  // Quiet: no push in flight, nothing pending in Redis.
  const keys = [...new Set(sent.map((e) => e.key))];
  await until(() => !downstream.busy, 10_000);
  await eventually(async () => {
    for (const key of keys) {
      const s = await redisState(raw.client, namespace, key);
      if (s.leased || s.done !== s.ver) return false;
    }
    return true;
  }, 10_000);

  for (const pod of pods.filter(alive)) pod.send({ type: 'teardown', round: id });
  const closed = await Promise.all(
    pods.filter(alive).map((pod) => pod.next((m) => m.type === 'closed' && m.round === id)),
  );
  const stats = closed.map((m) => (m as Extract<PodMessage, { type: 'closed' }>).stats);
  const logs = pods.flatMap((pod) =>
    pod.messages
      .filter((m) => m.type === 'log' && m.round === id)
      .map((m) => (m as { message: string }).message),
  );
  return {
    namespace,
    sent,
    settled: settled(),
    settleMs,
    burstMs: lastSent - started,
    keys,
    stats,
    logs,
    trips: `${stats.reduce((n, x) => n + x.events, 0)} EVENT round trips for ${sent.length} calls`,
  };
}

/** The fleet-wide guarantees, per key. */
async function expectConsistent(
  outcome: Awaited<ReturnType<typeof round>>,
  dead = new Set<number>(),
) {
  for (const key of outcome.keys) {
    const writes = downstream.of(key);
    const newest = Math.max(
      ...outcome.sent.filter((e) => e.key === key && !dead.has(e.pod)).map((e) => e.seq),
    );
    expect(downstream.maxConcurrent.get(key)).toBe(1);
    // Downstream sees non-decreasing sequence numbers, and the newest event lands last.
    const seqs = writes.map((w) => w.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(newest);
    const state = await redisState(raw.client, outcome.namespace, key);
    expect(state).toMatchObject({ args: [newest], leased: false, done: state.ver });
    // Fences grow with every push.
    const fences = writes.map((w) => w.fence);
    expect(new Set(fences).size).toBe(fences.length);
  }
  expect(outcome.settled.filter((m) => !m.ok)).toEqual([]);
}

describe('DistributedWriteGroup, 4 pod processes, real Redis, real HTTP downstream', () => {
  it('random bursts on one key: one push at a time fleet-wide, in order, newest last', async () => {
    const random = prng(11);
    const outcome = await round({ sweepEveryMs: 0 }, async (send) => {
      for (let i = 0; i < 150; i++) {
        await send('user:1', Math.floor(random() * PODS));
        if (random() < 0.5) await sleep(Math.floor(random() * 4));
      }
    });
    await expectConsistent(outcome);
    const pushes = downstream.of('user:1').length;
    expect(pushes).toBeLessThan(75); // coalesced: far fewer pushes than events
    figures.push(
      `one key: 150 events over ${outcome.burstMs} ms -> ${pushes} pushes; ` +
        `all callers settled ${outcome.settleMs} ms after the last event; ${outcome.trips}`,
    );
  });

  it('random bursts on two keys', async () => {
    const random = prng(12);
    const outcome = await round({ sweepEveryMs: 0 }, async (send) => {
      for (let i = 0; i < 200; i++) {
        await send(random() < 0.5 ? 'user:a' : 'user:b', Math.floor(random() * PODS));
        if (random() < 0.3) await sleep(Math.floor(random() * 6));
      }
    });
    await expectConsistent(outcome);
    figures.push(
      `two keys: 200 events over ${outcome.burstMs} ms -> ` +
        `${downstream.of('user:a').length} + ${downstream.of('user:b').length} pushes; ` +
        `settled ${outcome.settleMs} ms after the last event; ${outcome.trips}`,
    );
  });

  it('a runner killed (SIGKILL) mid-push: another pod pushes the key again, ending on the newest state', async () => {
    const random = prng(13);
    let victim = -1;
    let killedAt = 0;
    let writesAtKill = 0;
    const outcome = await round(
      { leaseMs: 1_000, recoverSlackMs: 50, sweepEveryMs: 0 },
      async (send, dead) => {
        let sent = 0;
        downstream.onPush = (write) => {
          if (victim >= 0 || sent < 20) return;
          victim = Number(write.pod.slice(1));
          dead.add(victim);
          killedAt = Date.now();
          writesAtKill = downstream.writes.length;
          pods[victim]!.process.kill('SIGKILL');
        };
        while (victim < 0 && sent < 400) {
          await send('user:k', Math.floor(random() * PODS));
          sent++;
          await sleep(2);
        }
        expect(victim).toBeGreaterThanOrEqual(0);
        // Let an EVENT the victim had already written reach Redis before newer events.
        await sleep(100);
        const survivors = [0, 1, 2, 3].filter((p) => p !== victim);
        for (let i = 0; i < 30; i++) {
          await send('user:k', survivors[Math.floor(random() * survivors.length)]!);
          await sleep(5);
        }
      },
    );
    const dead = new Set([victim]);
    await expectConsistent(outcome, dead);
    const after = downstream.writes.slice(writesAtKill).filter((w) => w.pod !== `p${victim}`);
    expect(after.length).toBeGreaterThan(0);
    // Taken over by another pod once the victim's lease ran out, then the newest state.
    expect(outcome.stats.reduce((n, s) => n + s.recovered, 0)).toBeGreaterThanOrEqual(1);
    figures.push(
      `runner p${victim} killed mid-push (lease 1 s): survivors' callers settled ` +
        `${outcome.settleMs} ms after the last event, ${Date.now() - killedAt} ms after the kill; ` +
        `${downstream.of('user:k').length} pushes`,
    );
  });
});
