import type { Dedupe } from './baseline.js';
import { ownCopy } from './driver.js';
import { prng } from '../test/support/prng.js';
import {
  type Contender,
  type RunInfo,
  type Target,
  heapBytes,
  settleAndCollect,
} from './harness.js';

/** Callers issued before awaiting them all: promises never pile up beyond this. */
export const BATCH = 1000;

/** A fresh dedupe for each run: runs share no state. */
export type Make = () => Dedupe;

/** Makes a scenario's contender from its name, its dedupe and its target (none: information). */
export type ContenderOf = (name: string, make: Make, target?: Target) => Contender;

/**
 * Driver: `count` calls of `dedupe.do`, on `keys` from the first, `batch` concurrent calls at a
 * time, with work that resolves at once (the cheapest there is, so the overhead shows). Resolves
 * to how many times the work ran. Copied per contender (bench/driver.ts): parameters only.
 */
async function batchedCalls(
  dedupe: Dedupe,
  keys: readonly string[],
  count: number,
  batch: number,
): Promise<number> {
  let executions = 0;
  const resolved = Promise.resolve(1);
  const work = () => {
    executions++;
    return resolved;
  };
  const pending: Promise<number>[] = [];
  for (let j = 0; j < batch; j++) pending.push(resolved);
  for (let i = 0; i < count; i += batch) {
    for (let j = 0; j < batch; j++) pending[j] = dedupe.do(keys[i + j]!, work);
    await Promise.all(pending);
  }
  return executions;
}

/**
 * Contenders that call `keys` in batches of BATCH (keys.length a multiple of it); a warm-up share
 * calls the first keys only. The check: the work ran once per distinct key of each batch.
 */
export function batchesOf(keys: readonly string[]): ContenderOf {
  // flightsBefore[b]: the flights a correct dedupe runs in the batches before batch b.
  const flightsBefore = [0];
  for (let i = 0; i < keys.length; i += BATCH) {
    flightsBefore.push(flightsBefore.at(-1)! + new Set(keys.slice(i, i + BATCH)).size);
  }
  return (name, make, target) => {
    const drive = ownCopy(batchedCalls);
    return {
      name,
      target,
      async run(share) {
        const batches = Math.max(1, Math.round((share * keys.length) / BATCH));
        const executions = await drive(make(), keys, batches * BATCH, BATCH);
        return executionsCheck(executions, flightsBefore[batches]!);
      },
    };
  };
}

function executionsCheck(executions: number, expected: number): RunInfo {
  return {
    check: { ok: executions === expected, text: `${executions} executions (expected ${expected})` },
  };
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

interface WavesOutcome {
  executions: number;
  wrongValues: number;
  worstWave: number;
}

/**
 * Driver: `count` waves of `callers` concurrent callers of one key (`keyOf(wave)`), whose flight
 * settles only once the whole wave has called. Copied per contender: parameters only.
 */
async function waves(
  dedupe: Dedupe,
  keyOf: (wave: number) => string,
  count: number,
  callers: number,
): Promise<WavesOutcome> {
  let executions = 0;
  let wrongValues = 0;
  let worstWave = 0;
  const pending: Promise<number>[] = [];
  for (let j = 0; j < callers; j++) pending.push(Promise.resolve(0));
  for (let wave = 0; wave < count; wave++) {
    let release!: (value: number) => void;
    const gate = new Promise<number>((resolve) => (release = resolve));
    const before = executions;
    const work = () => {
      executions++;
      return gate;
    };
    const key = keyOf(wave);
    for (let j = 0; j < callers; j++) pending[j] = dedupe.do(key, work);
    release(wave);
    const values = await Promise.all(pending);
    if (values[0] !== wave || values[callers - 1] !== wave) wrongValues++;
    worstWave = Math.max(worstWave, executions - before);
  }
  return { executions, wrongValues, worstWave };
}

/**
 * Contenders that run WAVES waves of WAVE_CALLERS callers (a warm-up share: fewer waves); the
 * check: one execution and the right value per wave.
 */
export function wavesOf(keyOf: (wave: number) => string): ContenderOf {
  return (name, make, target) => {
    const drive = ownCopy(waves);
    return {
      name,
      target,
      async run(share) {
        const count = Math.max(1, Math.round(share * WAVES));
        const { executions, wrongValues, worstWave } = await drive(
          make(),
          keyOf,
          count,
          WAVE_CALLERS,
        );
        const ok = executions === count && wrongValues === 0;
        const worst = worstWave > 1 ? ` (up to ${worstWave} in a wave)` : '';
        const bad = wrongValues ? `, ${wrongValues} bad waves` : '';
        const text = `${(executions / count).toFixed(2)} exec/wave${worst}${bad}`;
        return { check: { ok, text } };
      },
    };
  };
}

export const E_JOINERS = 100_000;

/**
 * Contenders whose run reads the heap bytes per waiting joiner: E_JOINERS joiners of one pending
 * flight. `mustShare`: the check also asks that every joiner got the leader's own promise (our
 * promise; peers need not). Not timed, so one function serves every contender.
 */
export function joinersOf(mustShare: boolean): ContenderOf {
  return (name, make, target) => ({ name, target, run: () => joinerHeap(make(), mustShare) });
}

async function joinerHeap(dedupe: Dedupe, mustShare: boolean): Promise<RunInfo> {
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
