// One pod of a fleet, for test/redis/writes/distributed-write.pods.spec.ts: its own
// DistributedWriteGroup and Redis connections; its push is an HTTP POST to the test's downstream.
//
//   test -> pod   { type: 'setup', round, ... }       connect, init, answer 'ready'
//   test -> pod   { type: 'event', round, key, seq }  one call: do(key, [seq], push)
//   pod -> test   { type: 'evented', ... }            an EVENT reached Redis: the seq it carried, its ver
//   pod -> test   { type: 'settled', ... }            a call settled
//   test -> pod   { type: 'teardown', round }         close, answer 'closed' with the stats
//
// A push of a `store:` key reads the key's newest seq from the test's store (GET <base>/src?key=)
// instead of pushing its arguments; `versioned` passes version: ([seq]) => seq; `ledger` brackets every push with the test's ledger (POST <base>/ledger/started|finished,
// GET <base>/ledger/pending).
import { DistributedWriteGroup } from '../../../../lib/redis/writes/distributed-write-group.js';
import type {
  DistributedWriteGroupStats,
  DistributedWriteOptions,
  WriteLedger,
  WriteRunContext,
} from '../../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { busyWait } from '../../../support/busy-wait.js';
import { type Connection, connect } from '../../../support/write-fleet.js';

export interface SetupMessage {
  type: 'setup';
  round: number;
  url: string;
  downstream: string;
  options: DistributedWriteOptions;
  versioned?: boolean;
  ledger?: boolean;
}

export type TestMessage =
  | SetupMessage
  | { type: 'event'; round: number; key: string; seq: number }
  | { type: 'teardown'; round: number }
  | { type: 'stall'; round: number; ms: number };

export type PodMessage =
  | { type: 'up'; pod: string }
  | { type: 'ready'; round: number; pod: string }
  | { type: 'evented'; round: number; pod: string; key: string; seq: number; ver: number }
  | { type: 'settled'; round: number; pod: string; seq: number; ok: boolean; detail: string }
  | { type: 'log'; round: number; pod: string; message: string }
  | { type: 'closed'; round: number; pod: string; stats: DistributedWriteGroupStats };

const pod = process.env.POD ?? String(process.pid);
const send = (message: PodMessage) => process.send!(message);

type Push = (args: [number], context: WriteRunContext) => Promise<string>;

/** The next push blocks the event loop this long (ms) before it writes. */
let stallNext = 0;

let current:
  | {
      round: number;
      group: DistributedWriteGroup;
      connection: Connection;
      push: Push;
      version: ((args: [number]) => number) | undefined;
    }
  | undefined;

async function setup(message: SetupMessage): Promise<void> {
  const { round } = message;
  const connection = await connect(message.url, {
    onEvent: ({ key, json, ver }) => {
      const [seq] = JSON.parse(json) as [number];
      send({ type: 'evented', round, pod, key, seq, ver });
    },
  });
  const base = new URL('/', message.downstream).href;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(base + path, { method: 'POST', body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  };
  const ledger: WriteLedger | undefined = message.ledger
    ? {
        started: (key, fence, args) => post('ledger/started', { key, fence, args }),
        finished: (key, fence, args) => post('ledger/finished', { key, fence, args }),
        async *pending() {
          const response = await fetch(`${base}ledger/pending`);
          yield* (await response.json()) as (string | { key: string; args: unknown[] })[];
        },
      }
    : undefined;
  const options = ledger === undefined ? message.options : { ...message.options, ledger };
  const group = new DistributedWriteGroup(connection.coordinator, options, (text) =>
    send({ type: 'log', round, pod, message: text }),
  );
  const push: Push = async ([called], { key, fence, signal }) => {
    const seq = key.startsWith('store:')
      ? ((await (await fetch(`${base}src?key=${encodeURIComponent(key)}`)).json()) as number)
      : called;
    if (stallNext > 0) {
      // A CPU-bound handler between reading the state and writing it, while holding the lease.
      const ms = stallNext;
      stallNext = 0;
      busyWait(ms);
      send({ type: 'log', round, pod, message: `stalled ${ms} ms, aborted: ${signal.aborted}` });
    }
    // The README's advice: a push whose lease may be gone does not write.
    signal.throwIfAborted();
    await post('push', { key, seq, fence, pod });
    return `${pod}:${seq}`;
  };
  const version = message.versioned ? ([seq]: [number]) => seq : undefined;
  // Any pod can push any user key it is handed (a crashed pod's key, the sweep).
  group.handle('user', push as never);
  group.handle('store', push as never);
  await group.init();
  current = { round, group, connection, push, version };
  send({ type: 'ready', round, pod });
}

function event(round: number, key: string, seq: number): void {
  const { group, push, version } = current!;
  group.do(key, push, { args: [seq] as [number], version }).then(
    (value) => send({ type: 'settled', round, pod, seq, ok: true, detail: String(value) }),
    (error: unknown) =>
      send({ type: 'settled', round, pod, seq, ok: false, detail: String(error) }),
  );
}

async function teardown(round: number): Promise<void> {
  const open = current;
  current = undefined;
  if (open === undefined) return;
  await open.group.close();
  await open.connection.close();
  send({ type: 'closed', round, pod, stats: open.group.stats() });
}

function fail(error: unknown): void {
  console.error(`pod ${pod}:`, error);
  process.exit(1);
}

process.on('message', (message: TestMessage) => {
  if (message.type === 'setup') setup(message).catch(fail);
  else if (message.type === 'teardown') teardown(message.round).catch(fail);
  else if (message.type === 'stall') stallNext = message.ms;
  else event(message.round, message.key, message.seq);
});
process.on('disconnect', () => process.exit(0));
send({ type: 'up', pod });
