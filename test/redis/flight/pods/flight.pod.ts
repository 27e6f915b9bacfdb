// One pod of a fleet, for test/redis/flight/distributed-flight.pods.spec.ts: its own Group,
// DistributedFlight and Redis connections, driven by the test over IPC, one round at a time.
//
//   test -> pod   { type: 'setup', round, ... }   connect, init, answer 'ready'
//   test -> pod   { type: 'go', round }           the shared barrier: fire every caller at once
//   pod -> test   { type: 'call', round, pod }    each time the backend runs
//   pod -> test   { type: 'done', round, ... }    once every caller has settled
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Group } from '../../../../lib/core/group.js';
import type { RedisCoordinator } from '../../../../lib/redis/coordinator/coordinator.interface.js';
import {
  DistributedFlight,
  type DistributedFlightOptions,
  type DistributedFlightStats,
} from '../../../../lib/redis/flight/distributed-flight.js';
import { connectCoordinator, wrapCoordinator } from '../../../support/redis-coordinator.js';

export interface SetupMessage {
  type: 'setup';
  round: number;
  url: string;
  key: string;
  callers: number;
  /** How long the backend takes. */
  workMs: number;
  opTimeoutMs: number;
  options: DistributedFlightOptions;
  /** Drop every wake-up message this pod receives (a lost pub/sub message). */
  deaf?: boolean;
}

export type PodMessage =
  | { type: 'up'; pod: string }
  | { type: 'ready'; round: number; pod: string }
  | { type: 'call'; round: number; pod: string }
  | { type: 'log'; round: number; pod: string; message: string }
  | {
      type: 'done';
      round: number;
      pod: string;
      ok: number;
      errors: string[];
      /** The distinct results the callers got. */
      results: string[];
      maxLatencyMs: number;
      stats: DistributedFlightStats;
    };

const pod = process.env.POD ?? String(process.pid);
const send = (message: PodMessage) => process.send!(message);

interface Round {
  setup: SetupMessage;
  flight: DistributedFlight;
  close: () => Promise<void>;
}
const rounds = new Map<number, Round>();

/** A test wrapper around the interface: wake-up messages never reach the engine. */
const deafened = (c: RedisCoordinator) =>
  wrapCoordinator(c, { subscribe: (channel) => c.subscribe(channel, () => {}) });

async function setup(message: SetupMessage): Promise<void> {
  const connection = await connectCoordinator(message.url, { opTimeoutMs: message.opTimeoutMs });
  const coordinator = message.deaf ? deafened(connection.coordinator) : connection.coordinator;
  const flight = new DistributedFlight(coordinator, message.options, (text) =>
    send({ type: 'log', round: message.round, pod, message: text }),
  );
  await flight.init();
  rounds.set(message.round, {
    setup: message,
    flight,
    close: async () => {
      await flight.close();
      await connection.close();
    },
  });
  send({ type: 'ready', round: message.round, pod });
}

async function go(roundId: number): Promise<void> {
  const round = rounds.get(roundId)!;
  const { key, callers, workMs } = round.setup;
  const group = new Group();
  const backend = async () => {
    send({ type: 'call', round: roundId, pod });
    await sleep(workMs);
    return { pod, id: randomUUID() };
  };
  let maxLatencyMs = 0;
  const call = async () => {
    const started = performance.now();
    try {
      return await group.do(key, () => round.flight.run(key, backend));
    } finally {
      maxLatencyMs = Math.max(maxLatencyMs, performance.now() - started);
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: callers }, call));
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
  const results = new Set(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.id] : [])));
  send({
    type: 'done',
    round: roundId,
    pod,
    ok: callers - errors.length,
    errors,
    results: [...results],
    maxLatencyMs,
    stats: round.flight.stats(),
  });
  rounds.delete(roundId);
  await round.close();
}

process.on('message', (message: SetupMessage | { type: 'go'; round: number }) => {
  const work = message.type === 'setup' ? setup(message) : go(message.round);
  work.catch((error: unknown) => {
    console.error(`pod ${pod}:`, error);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
send({ type: 'up', pod });
