/**
 * The core Group against the hand-written Map dedupe (bench/baseline.ts).
 *
 *   A      200k calls, each its own key: the cost of a flight nobody joins.
 *   B      200 waves x 1000 concurrent callers of one key: the cost of joining.
 *   C      100k calls over 1000 Zipf-skewed keys (s = 1.1), in concurrent batches: a mix.
 *   E      heap bytes per waiting joiner (100k joiners of one pending flight).
 *   A-ALS  A with `detectAsyncReentry` (AsyncLocalStorage), in fresh processes, since on Node < 24
 *          it turns on promise hooks for the whole process, for good.
 */
import { Group } from '../../lib/index.js';
import { type Dedupe, MapDedupe } from '../baseline.js';
import {
  type Contender,
  type Row,
  type RunInfo,
  heapBytes,
  registerScenario,
  settleAndCollect,
} from '../harness.js';
import { BATCH, batchedCalls, zipfRanks } from '../workloads.js';

const RESOLVED = Promise.resolve(1);

type Make = () => Dedupe;
const makeBaseline: Make = () => new MapDedupe();
const makeGroup: Make = () => new Group();

// ---------------------------------------------------------------------------------------------
// A: unique keys
// ---------------------------------------------------------------------------------------------

const A_CALLS = 200_000;
const uniqueKeys = Array.from({ length: A_CALLS }, (_, i) => `user:${i}`);
const uniqueCalls = (dedupe: Dedupe) => batchedCalls(dedupe, uniqueKeys, A_CALLS);

const A_TARGET = { kind: 'ratio', max: 1.15 } as const;

registerScenario({
  id: 'A',
  title: '200k unique keys (every call leads its own flight)',
  unit: 'ns',
  per: 'call',
  ops: A_CALLS,
  contenders: [
    { name: 'Map baseline', run: () => uniqueCalls(makeBaseline()) },
    { name: 'Group.do', run: () => uniqueCalls(makeGroup()), target: A_TARGET },
  ],
});

// ---------------------------------------------------------------------------------------------
// B: waves of concurrent callers on one key
// ---------------------------------------------------------------------------------------------

const WAVES = 200;
const WAVE_CALLERS = 1000;

async function waves(dedupe: Dedupe): Promise<RunInfo> {
  let executions = 0;
  let wrongValues = 0;
  const batch = Array.from({ length: WAVE_CALLERS }, () => RESOLVED);
  for (let wave = 0; wave < WAVES; wave++) {
    let release!: (value: number) => void;
    const gate = new Promise<number>((resolve) => (release = resolve));
    const work = () => {
      executions++;
      return gate;
    };
    for (let j = 0; j < WAVE_CALLERS; j++) batch[j] = dedupe.do('hot', work);
    release(wave); // the flight settles only once the whole wave has called
    const values = await Promise.all(batch);
    if (values[0] !== wave || values[WAVE_CALLERS - 1] !== wave) wrongValues++;
  }
  const ok = executions === WAVES && wrongValues === 0;
  const text = `${(executions / WAVES).toFixed(2)} exec/wave${wrongValues ? `, ${wrongValues} bad waves` : ''}`;
  return { check: { ok, text } };
}

registerScenario({
  id: 'B',
  title: `${WAVES} waves x ${WAVE_CALLERS} concurrent callers of one key`,
  unit: 'ns',
  per: 'call',
  ops: WAVES * WAVE_CALLERS,
  rounds: 31, // short runs (~20 ms): more rounds, same budget
  contenders: [
    { name: 'Map baseline', run: () => waves(makeBaseline()) },
    { name: 'Group.do', run: () => waves(makeGroup()), target: { kind: 'ratio', max: 1.1 } },
  ],
});

// ---------------------------------------------------------------------------------------------
// C: Zipf-skewed keys
// ---------------------------------------------------------------------------------------------

const C_CALLS = 100_000;
const C_KEYS = 1000;
const ZIPF_S = 1.1;

const zipfKeys = zipfRanks(C_CALLS, C_KEYS, ZIPF_S, 0x5eed).map((rank) => `item:${rank}`);
/** Flights a correct dedupe runs: the distinct keys of each concurrent batch. */
const zipfFlights = (() => {
  let flights = 0;
  for (let i = 0; i < C_CALLS; i += BATCH) flights += new Set(zipfKeys.slice(i, i + BATCH)).size;
  return flights;
})();
const zipfBatches = (dedupe: Dedupe) => batchedCalls(dedupe, zipfKeys, zipfFlights);

registerScenario({
  id: 'C',
  title: `${C_CALLS / 1000}k calls over ${C_KEYS} Zipf keys (s=${ZIPF_S}), batches of ${BATCH}`,
  unit: 'ns',
  per: 'call',
  ops: C_CALLS,
  rounds: 25, // short runs (~25 ms): more rounds, same budget
  contenders: [
    { name: 'Map baseline', run: () => zipfBatches(makeBaseline()) },
    { name: 'Group.do', run: () => zipfBatches(makeGroup()), target: { kind: 'ratio', max: 1.15 } },
  ],
});

// ---------------------------------------------------------------------------------------------
// E: heap per waiting joiner
// ---------------------------------------------------------------------------------------------

const E_JOINERS = 100_000;

async function joinerHeap(dedupe: Dedupe): Promise<RunInfo> {
  let release!: (value: number) => void;
  const gate = new Promise<number>((resolve) => (release = resolve));
  const work = () => gate;
  // The array that keeps the joiners' promises alive is made (packed, full size) before the first
  // heap reading, so its own bytes are not counted. `new Array(n)` is not used: above 100k
  // elements V8 makes it a dictionary.
  const held: Array<Promise<number> | null> = [];
  for (let i = 0; i <= E_JOINERS; i++) held.push(null);
  held[0] = dedupe.do('hot', work); // the leader: its flight is not a joiner's cost
  await settleAndCollect();
  const before = heapBytes();
  for (let i = 1; i <= E_JOINERS; i++) held[i] = dedupe.do('hot', work);
  await settleAndCollect();
  const bytes = heapBytes() - before;
  // Both contenders hand every joiner the leader's promise itself: nothing to allocate.
  const shared = held.every((p) => p === held[0]);
  release(42);
  const values = await Promise.all(held);
  const right = values.every((v) => v === 42);
  const text = `${right ? 'values right' : 'WRONG VALUES'}, ${shared ? "leader's promise shared" : 'a promise per joiner'}`;
  return { bytes, check: { ok: right && shared, text } };
}

registerScenario({
  id: 'E',
  title: `heap per waiting joiner (${E_JOINERS / 1000}k joiners of one pending flight)`,
  unit: 'bytes',
  per: 'joiner',
  ops: E_JOINERS,
  contenders: [
    { name: 'Map baseline', run: () => joinerHeap(makeBaseline()) },
    // "0 extra bytes": within half a byte per joiner of the baseline. The reading is not exact
    // (+-0.2 B/joiner), but anything kept per joiner would cost 16 B or more.
    { name: 'Group.do', run: () => joinerHeap(makeGroup()), target: { kind: 'extra', max: 0.5 } },
  ],
});

// ---------------------------------------------------------------------------------------------
// A-ALS: the price of detectAsyncReentry
// ---------------------------------------------------------------------------------------------

const alsContenders: Contender[] = [
  { name: 'Map baseline', run: () => uniqueCalls(makeBaseline()) },
  { name: 'Group.do', run: () => uniqueCalls(makeGroup()) },
  // From here on AsyncLocalStorage's promise hooks are on in this process (Node < 24).
  {
    name: 'Group.do {detectAsyncReentry}',
    run: () => uniqueCalls(new Group({ detectAsyncReentry: true })),
  },
  { name: 'Map baseline, ALS hooks on', run: () => uniqueCalls(makeBaseline()) },
  { name: 'Group.do, ALS hooks on', run: () => uniqueCalls(makeGroup()) },
];

registerScenario({
  id: 'A-ALS',
  title: 'A with detectAsyncReentry (fresh process per round; declared order)',
  unit: 'ns',
  per: 'call',
  ops: A_CALLS,
  isolated: true,
  warmup: 2,
  rounds: 9, // a child process per round: 9 keep the whole bench well under two minutes
  contenders: alsContenders,
  summarize: summarizeAls,
});

function summarizeAls(rows: readonly Row[]): string[] {
  const vs = (name: string) => rows.find((r) => r.contender === name)?.vsBaseline ?? NaN;
  const plain = vs('Group.do');
  const als = vs('Group.do {detectAsyncReentry}');
  const hooks = vs('Map baseline, ALS hooks on');
  return [
    `detectAsyncReentry (${process.version}): Group.do costs ${als.toFixed(2)}x the Map baseline ` +
      `with it, ${plain.toFixed(2)}x without (${(als / plain).toFixed(2)}x slower); once on, every ` +
      `promise of the process pays: the bare Map dedupe itself runs ${hooks.toFixed(2)}x slower.`,
  ];
}
