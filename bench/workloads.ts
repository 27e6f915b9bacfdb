import type { Dedupe } from './baseline.js';
import { prng } from '../test/support/prng.js';
import { type RunInfo, heapBytes, settleAndCollect } from './harness.js';

/** Callers issued before awaiting them all: promises never pile up beyond this. */
export const BATCH = 1000;
export const RESOLVED = Promise.resolve(1);

/**
 * One call of `dedupe.do` per key, BATCH concurrent calls at a time, with work that resolves at
 * once (the cheapest there is, so the overhead shows); checks that the work ran `expected` times.
 */
export async function batchedCalls(
  dedupe: Dedupe,
  keys: readonly string[],
  expected: number,
): Promise<RunInfo> {
  let executions = 0;
  const work = () => {
    executions++;
    return RESOLVED;
  };
  const batch = Array.from({ length: BATCH }, () => RESOLVED);
  for (let i = 0; i < keys.length; i += BATCH) {
    for (let j = 0; j < BATCH; j++) batch[j] = dedupe.do(keys[i + j]!, work);
    await Promise.all(batch);
  }
  const ok = executions === expected;
  return { check: { ok, text: `${executions} executions (expected ${expected})` } };
}

/** `calls` ranks in [0, keys), Zipf-distributed with exponent `s`; the same for the same seed. */
export function zipfRanks(calls: number, keys: number, s: number, seed: number): number[] {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let k = 0; k < keys; k++) cdf[k] = total += 1 / (k + 1) ** s;
  const random = prng(seed);
  // Inverse CDF: the first rank whose cumulative weight reaches a uniform draw.
  return Array.from({ length: calls }, () => {
    const u = random() * total;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

export const WAVES = 200;
export const WAVE_CALLERS = 1000;

/**
 * WAVES waves of WAVE_CALLERS concurrent callers of one key (`keyOf(wave)`), whose flight settles
 * only once the whole wave has called; checks one execution and the right value per wave.
 */
export async function waves(dedupe: Dedupe, keyOf: (wave: number) => string): Promise<RunInfo> {
  let executions = 0;
  let wrongValues = 0;
  let worstWave = 0;
  const batch = Array.from({ length: WAVE_CALLERS }, () => RESOLVED);
  for (let wave = 0; wave < WAVES; wave++) {
    let release!: (value: number) => void;
    const gate = new Promise<number>((resolve) => (release = resolve));
    const before = executions;
    const work = () => {
      executions++;
      return gate;
    };
    const key = keyOf(wave);
    for (let j = 0; j < WAVE_CALLERS; j++) batch[j] = dedupe.do(key, work);
    release(wave);
    const values = await Promise.all(batch);
    if (values[0] !== wave || values[WAVE_CALLERS - 1] !== wave) wrongValues++;
    worstWave = Math.max(worstWave, executions - before);
  }
  const ok = executions === WAVES && wrongValues === 0;
  const worst = worstWave > 1 ? ` (up to ${worstWave} in a wave)` : '';
  const bad = wrongValues ? `, ${wrongValues} bad waves` : '';
  return { check: { ok, text: `${(executions / WAVES).toFixed(2)} exec/wave${worst}${bad}` } };
}

export const E_JOINERS = 100_000;

/**
 * Heap bytes per waiting joiner: E_JOINERS joiners of one pending flight. `mustShare`: the check
 * also asks that every joiner got the leader's own promise (our promise; peers need not).
 */
export async function joinerHeap(dedupe: Dedupe, mustShare: boolean): Promise<RunInfo> {
  let executions = 0;
  let release!: (value: number) => void;
  const gate = new Promise<number>((resolve) => (release = resolve));
  const work = () => {
    executions++;
    return gate;
  };
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
  const shared = held.every((p) => p === held[0]);
  release(42);
  const values = await Promise.all(held);
  const right = values.every((v) => v === 42);
  const text =
    `${executions} execution${executions === 1 ? '' : 's'}, ` +
    `${right ? 'values right' : 'WRONG VALUES'}, ` +
    `${shared ? "leader's promise shared" : 'a promise per joiner'}`;
  return { bytes, check: { ok: right && executions === 1 && (shared || !mustShare), text } };
}
