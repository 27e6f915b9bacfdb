/**
 * A small benchmark harness for a noisy machine: every contender of a scenario is measured in the
 * same process, in interleaved rounds (rotating order). Before each timed run: a full GC, then an
 * untimed warm-up of a share of the workload (5 % unless `--warmup` says otherwise), so each run
 * is timed as a program would run after its heap was collected. Rows report the MEDIAN over
 * rounds and the median of the per-round ratios to the baseline (the first contender), with their
 * spread, so slow drifts of the machine cancel out. Each contender drives its calls through a
 * copy of the driver loop of its own (bench/driver.ts).
 *
 * Scenarios register themselves (see `registerScenario`) from any module in bench/scenarios/;
 * bench/index.ts imports them all, runs them and prints one table.
 */
import { getHeapSpaceStatistics } from 'node:v8';

/** A limit for a contender, relative to the scenario's baseline (its first contender). */
export interface Target {
  /** `ratio`: value / baseline <= max. `extra`: value - baseline <= max (in the scenario's unit). */
  kind: 'ratio' | 'extra';
  max: number;
}

/** What a run may report besides its duration. */
export interface RunInfo {
  /** Scenarios in `bytes` units: the bytes measured by this run (the harness divides by `ops`). */
  bytes?: number;
  /** A correctness check shown in the table; a failed check fails the row. */
  check?: { ok: boolean; text: string };
}

export interface Contender {
  name: string;
  /**
   * One run over `share` of the workload (1: all of it, the timed run; less: the warm-up). Make
   * fresh state inside (a new Group...): runs must not share state. A run that cannot be cut
   * short ignores `share`.
   */
  run(share: number): Promise<RunInfo | void>;
  /** Omit for the baseline and for rows reported for information only. */
  target?: Target;
}

export interface Scenario {
  /** Short id used in the table and by `--only` (e.g. 'A', 'C', 'A-ALS'). */
  id: string;
  title: string;
  /** `ns`: wall time of run() / ops. `bytes`: RunInfo.bytes / ops. */
  unit: 'ns' | 'bytes';
  /** Operations per run (calls, joiners...), to report a cost per operation. */
  ops: number;
  /** What one op is, for the unit column ('call', 'joiner'). */
  per: string;
  /** contenders[0] is the baseline every ratio refers to. */
  contenders: Contender[];
  /** Whole unmeasured runs of each contender before the first round (default 3). */
  warmup?: number;
  /**
   * The share of the workload run untimed after the full GC before each timed run; default: the
   * run's `--warmup` (0.05). 0: none (a scenario whose runs take seconds and cannot be cut short).
   */
  warmupShare?: number;
  /** Rounds for this scenario, when it must differ from the run's `--rounds`. */
  rounds?: number;
  /**
   * For contenders that change the process for good (e.g. AsyncLocalStorage turns on promise hooks
   * that slow every later promise): each round runs in a fresh child process, contenders in the
   * declared order, each warmed up just before it is measured.
   */
  isolated?: boolean;
  /** Lines printed under the table, from this scenario's rows (a conclusion, a derived cost). */
  summarize?: (rows: readonly Row[]) => string[];
}

export interface Row {
  scenario: string;
  title: string;
  contender: string;
  unit: string;
  samples: number[];
  median: number;
  /** Median of per-round ratios (or differences, for `extra` targets) to the baseline. */
  vsBaseline: number | undefined;
  vsMin: number | undefined;
  vsMax: number | undefined;
  target: Target | undefined;
  check: string;
  /** undefined: nothing to judge (baseline, information rows with a passing check). */
  pass: boolean | undefined;
}

const scenarios: Scenario[] = [];

/** Adds a scenario to the run. Call it at the top level of a module in bench/scenarios/. */
export function registerScenario(scenario: Scenario): void {
  if (scenarios.some((s) => s.id === scenario.id)) {
    throw new Error(`bench: scenario id '${scenario.id}' is registered twice`);
  }
  if (scenario.contenders.length === 0) throw new Error(`bench: '${scenario.id}' has no contender`);
  scenarios.push(scenario);
}

export function registeredScenarios(): readonly Scenario[] {
  return scenarios;
}

/** One measurement of one contender: a value in the scenario's unit per op, and its check. */
export interface Sample {
  value: number;
  check: RunInfo['check'];
}

type GcFunction = (options?: { type?: 'major' | 'minor' }) => void;
const gc: GcFunction =
  (globalThis as { gc?: GcFunction }).gc ??
  (() => {
    throw new Error('bench: run node with --expose-gc (npm run bench does)');
  });

/** Lets pending callbacks finish, then collects garbage, so a run starts from a quiet heap. */
export async function settleAndCollect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
}

/**
 * Bytes used by the JS heap, JIT code excluded: V8 compiles, flushes and frees code at its own
 * pace, which adds +-200 kB of noise unrelated to the objects measured. Read it after
 * `settleAndCollect()`. (`process.memoryUsage().heapUsed` is this plus the code spaces.)
 */
export function heapBytes(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (!space.space_name.startsWith('code')) used += space.space_used_size;
  }
  return used;
}

/** The share of a workload run untimed before each timed run, unless a scenario says otherwise. */
export const DEFAULT_WARMUP_SHARE = 0.05;

/**
 * Times one run: a full GC (no garbage of another contender left), an untimed warm-up over
 * `warmupShare` of the workload, a minor GC (the warm-up's young garbage gone), then the timed
 * run. A full GC throws away optimized code that embedded objects now dead (the last run's
 * closures and instances), so what the warm-up must redo is part of what a contender costs: code
 * that needs more calls to get fast again shows it here. Bytes scenarios read the heap themselves.
 */
export async function measure(
  scenario: Scenario,
  contender: Contender,
  warmupShare: number,
): Promise<Sample> {
  await settleAndCollect();
  const share = scenario.warmupShare ?? warmupShare;
  if (scenario.unit === 'ns' && share > 0) {
    await contender.run(share);
    await new Promise((resolve) => setImmediate(resolve));
    gc({ type: 'minor' });
  }
  const start = process.hrtime.bigint();
  const info = (await contender.run(1)) ?? {};
  const elapsed = Number(process.hrtime.bigint() - start);
  if (scenario.unit === 'bytes') {
    if (info.bytes === undefined) {
      throw new Error(`bench: ${scenario.id}/${contender.name} did not report bytes`);
    }
    return { value: info.bytes / scenario.ops, check: info.check };
  }
  return { value: elapsed / scenario.ops, check: info.check };
}

export async function warmUp(scenario: Scenario, contender: Contender): Promise<void> {
  for (let i = 0; i < (scenario.warmup ?? 3); i++) await contender.run(1);
}

/** Interleaved rounds in this process: samples[contender][round]. */
export async function runInterleaved(
  scenario: Scenario,
  rounds: number,
  warmupShare: number,
): Promise<Sample[][]> {
  const { contenders } = scenario;
  for (const contender of contenders) await warmUp(scenario, contender);
  const samples: Sample[][] = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const index = (i + round) % contenders.length;
      samples[index]!.push(await measure(scenario, contenders[index]!, warmupShare));
    }
  }
  return samples;
}

/** One round of an isolated scenario (run in a child process): contenders in declared order. */
export async function runOrderedRound(scenario: Scenario, warmupShare: number): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const contender of scenario.contenders) {
    await warmUp(scenario, contender);
    out.push(await measure(scenario, contender, warmupShare));
  }
  return out;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function kindOf(scenario: Scenario, contender: Contender): Target['kind'] {
  return contender.target?.kind ?? (scenario.unit === 'bytes' ? 'extra' : 'ratio');
}

/** Turns samples[contender][round] into table rows. */
export function toRows(scenario: Scenario, samples: Sample[][]): Row[] {
  const base = samples[0]!.map((s) => s.value);
  return scenario.contenders.map((contender, c) => {
    const values = samples[c]!.map((s) => s.value);
    const isBaseline = c === 0;
    const kind = kindOf(scenario, contender);
    // Paired per round: a slow moment of the machine hits the baseline of that round too.
    const paired = values.map((v, r) => (kind === 'ratio' ? v / base[r]! : v - base[r]!));
    const vsBaseline = isBaseline ? undefined : median(paired);
    const failedCheck = samples[c]!.find((s) => s.check && !s.check.ok)?.check;
    const check = (failedCheck ?? samples[c]!.at(-1)?.check)?.text ?? '';
    let pass: boolean | undefined;
    if (failedCheck) pass = false;
    else if (contender.target && vsBaseline !== undefined)
      pass = vsBaseline <= contender.target.max;
    return {
      scenario: scenario.id,
      title: scenario.title,
      contender: contender.name,
      unit: `${scenario.unit}/${scenario.per}`,
      samples: values,
      median: median(values),
      vsBaseline,
      vsMin: isBaseline ? undefined : Math.min(...paired),
      vsMax: isBaseline ? undefined : Math.max(...paired),
      target: contender.target,
      check,
      pass,
    };
  });
}

function formatVs(kind: Target['kind'], value: number | undefined): string {
  if (value === undefined) return '';
  return kind === 'ratio' ? `${value.toFixed(3)}x` : `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;
}

function formatTarget(target: Target | undefined): string {
  if (!target) return '';
  return target.kind === 'ratio' ? `<= ${target.max.toFixed(2)}x` : `<= +${target.max}`;
}

function formatResult(row: Row): string {
  if (row.pass !== undefined) return row.pass ? 'PASS' : 'FAIL';
  return row.vsBaseline === undefined ? '' : 'info';
}

/** One plain-text table of every row. */
export function formatTable(rows: readonly Row[]): string {
  const header = [
    'scenario',
    'contender',
    'median',
    'unit',
    'vs baseline',
    'min .. max (rounds)',
    'target',
    'result',
    'check',
  ];
  const lines = rows.map((row) => {
    const bytes = row.unit.startsWith('bytes');
    const kind = row.target?.kind ?? (bytes ? 'extra' : 'ratio');
    return [
      row.scenario,
      row.contender,
      row.median.toFixed(bytes ? 2 : 1),
      row.unit,
      row.vsBaseline === undefined ? 'baseline' : formatVs(kind, row.vsBaseline),
      row.vsMin === undefined ? '' : `${formatVs(kind, row.vsMin)} .. ${formatVs(kind, row.vsMax)}`,
      formatTarget(row.target),
      formatResult(row),
      row.check,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const rightAligned = new Set([2, 4]);
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join(
    '\n',
  );
}
