import type { Dedupe } from './baseline.js';
import type { RunInfo } from './harness.js';

/** Callers issued before awaiting them all: promises never pile up beyond this. */
export const BATCH = 1000;
const RESOLVED = Promise.resolve(1);

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

/** mulberry32: a small seeded PRNG, so every run and contender sees the same sequence. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `calls` ranks in [0, keys), Zipf-distributed with exponent `s`; the same for the same seed. */
export function zipfRanks(calls: number, keys: number, s: number, seed: number): number[] {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let k = 0; k < keys; k++) cdf[k] = total += 1 / (k + 1) ** s;
  const random = mulberry32(seed);
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
