/**
 * What an ObservableGroup flight holds for late subscribers, for a stream that never completes:
 * the heap it keeps after 300k values, and what a subscriber that joins then is replayed.
 *
 *   npx tsc -p bench/tsconfig.json && node --expose-gc dist-bench/bench/memory/observable-replay.js
 *
 * `replay: Infinity` is what every flight kept before the window existed (0.1.0).
 */
import { Subject } from 'rxjs';
import { ObservableGroup } from '../../lib/rx/observable-group.js';
import { heapBytes, settleAndCollect } from '../harness.js';

const VALUES = 300_000;

interface Tick {
  seq: number;
  at: number;
}

async function measure(replay: number): Promise<string> {
  await settleAndCollect();
  const before = heapBytes();
  const group = new ObservableGroup({ replay });
  const stream = new Subject<Tick>();
  let heard = 0;
  const first = group.share$('feed', () => stream).subscribe(() => heard++);
  for (let seq = 0; seq < VALUES; seq++) stream.next({ seq, at: Date.now() });
  await settleAndCollect();
  const held = heapBytes() - before;
  let replayed = 0;
  const started = performance.now();
  const late = group.share$('feed', () => stream).subscribe(() => replayed++);
  const replayMs = performance.now() - started;
  late.unsubscribe();
  first.unsubscribe();
  if (heard !== VALUES) throw new Error(`the first subscriber heard ${heard} values`);
  const kb = Math.round(held / 1e3)
    .toLocaleString('en')
    .padStart(8);
  return `${String(replay).padEnd(9)} | ${kb} kB | ${String(replayed).padStart(7)} | ${replayMs.toFixed(1)} ms`;
}

console.log(`${VALUES} values of { seq, at }, then a late subscriber joins`);
console.log('replay    |   heap kept | replayed | replay time');
for (const replay of [Infinity, 1, 100, 0]) console.log(await measure(replay));
