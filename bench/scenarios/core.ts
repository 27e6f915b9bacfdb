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
import { MapDedupe } from '../baseline.js';
import { type Row, registerScenario } from '../harness.js';
import {
  BATCH,
  E_JOINERS,
  type Make,
  WAVES,
  WAVE_CALLERS,
  batchesOf,
  joinersOf,
  wavesOf,
  zipfRanks,
} from '../workloads.js';

const makeBaseline: Make = () => new MapDedupe();
const makeGroup: Make = () => new Group();

// ---------------------------------------------------------------------------------------------
// A: unique keys
// ---------------------------------------------------------------------------------------------

const A_CALLS = 200_000;
const unique = batchesOf(Array.from({ length: A_CALLS }, (_, i) => `user:${i}`));

registerScenario({
  id: 'A',
  title: '200k unique keys (every call leads its own flight)',
  unit: 'ns',
  per: 'call',
  ops: A_CALLS,
  contenders: [
    unique('Map baseline', makeBaseline),
    unique('Group.do', makeGroup, { kind: 'ratio', max: 1.15 }),
  ],
});

// ---------------------------------------------------------------------------------------------
// B: waves of concurrent callers on one key
// ---------------------------------------------------------------------------------------------

const hot = wavesOf(() => 'hot');

registerScenario({
  id: 'B',
  title: `${WAVES} waves x ${WAVE_CALLERS} concurrent callers of one key`,
  unit: 'ns',
  per: 'call',
  ops: WAVES * WAVE_CALLERS,
  rounds: 31, // short runs (~20 ms): more rounds, same budget
  contenders: [
    hot('Map baseline', makeBaseline),
    hot('Group.do', makeGroup, { kind: 'ratio', max: 1.05 }),
  ],
});

// ---------------------------------------------------------------------------------------------
// C: Zipf-skewed keys
// ---------------------------------------------------------------------------------------------

const C_CALLS = 100_000;
const C_KEYS = 1000;
const ZIPF_S = 1.1;

const zipf = batchesOf(zipfRanks(C_CALLS, C_KEYS, ZIPF_S, 0x5eed).map((rank) => `item:${rank}`));

registerScenario({
  id: 'C',
  title: `${C_CALLS / 1000}k calls over ${C_KEYS} Zipf keys (s=${ZIPF_S}), batches of ${BATCH}`,
  unit: 'ns',
  per: 'call',
  ops: C_CALLS,
  rounds: 25, // short runs (~25 ms): more rounds, same budget
  contenders: [
    zipf('Map baseline', makeBaseline),
    zipf('Group.do', makeGroup, { kind: 'ratio', max: 1.25 }),
  ],
});

// ---------------------------------------------------------------------------------------------
// E: heap per waiting joiner
// ---------------------------------------------------------------------------------------------

const joiners = joinersOf(true);

registerScenario({
  id: 'E',
  title: `heap per waiting joiner (${E_JOINERS / 1000}k joiners of one pending flight)`,
  unit: 'bytes',
  per: 'joiner',
  ops: E_JOINERS,
  contenders: [
    joiners('Map baseline', makeBaseline),
    // "0 extra bytes": within half a byte per joiner of the baseline. The reading is not exact
    // (+-0.2 B/joiner), but anything kept per joiner would cost 16 B or more.
    joiners('Group.do', makeGroup, { kind: 'extra', max: 0.5 }),
  ],
});

// ---------------------------------------------------------------------------------------------
// A-ALS: the price of detectAsyncReentry
// ---------------------------------------------------------------------------------------------

registerScenario({
  id: 'A-ALS',
  title: 'A with detectAsyncReentry (fresh process per round; declared order)',
  unit: 'ns',
  per: 'call',
  ops: A_CALLS,
  isolated: true,
  warmup: 2,
  rounds: 9, // a child process per round: 9 keep the whole bench well under two minutes
  contenders: [
    unique('Map baseline', makeBaseline),
    unique('Group.do', makeGroup),
    // From here on AsyncLocalStorage's promise hooks are on in this process (Node < 24).
    unique('Group.do {detectAsyncReentry}', () => new Group({ detectAsyncReentry: true })),
    unique('Map baseline, ALS hooks on', makeBaseline),
    unique('Group.do, ALS hooks on', makeGroup),
  ],
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
