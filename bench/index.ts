/**
 * `npm run bench`: every scenario registered by a module of bench/scenarios/, one table at the end,
 * JSON in bench/results/latest.json.
 *
 *   npm run bench -- --rounds 9        rounds per scenario (default 15; 7 at least is advised)
 *   npm run bench -- --only A,E        only these scenario ids
 *   npm run bench -- --no-json         do not write bench/results/ (latest.json, the day's file)
 *   npm run bench -- --strict          exit 1 when a target or a check fails
 *   npm run bench -- --warmup 0.2      share of the workload run untimed before each timed run
 *                                      (after the full GC; default 0.05)
 *   npm run bench -- --processes 5     spread a scenario's interleaved rounds over this many
 *                                      fresh processes (default 1: all in this one)
 *
 * Besides latest.json, a run updates bench/results/<YYYY-MM-DD>-<machine>.json (rows of the day on
 * this machine) and, when it ran peer scenarios (PEER-*), renders bench/results/peers.svg (see
 * bench/results.ts).
 *
 * To add scenarios, drop a module in bench/scenarios/ that calls registerScenario(); nothing here
 * needs to change.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_WARMUP_SHARE,
  type Row,
  type Sample,
  type Scenario,
  formatTable,
  registeredScenarios,
  runInterleaved,
  runOrderedRound,
  toRows,
} from './harness.js';
import { saveResults } from './results.js';

const here = dirname(fileURLToPath(import.meta.url));

async function loadScenarios(): Promise<readonly Scenario[]> {
  const dir = join(here, 'scenarios');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort();
  for (const file of files) await import(pathToFileURL(join(dir, file)).href);
  return registeredScenarios();
}

/**
 * Child mode: one round of one isolated scenario, or (`rounds`) that many interleaved rounds of
 * any scenario; samples sent back to the parent.
 */
async function child(id: string, warmupShare: number, rounds: number | undefined): Promise<void> {
  const scenario = (await loadScenarios()).find((s) => s.id === id);
  if (!scenario) throw new Error(`bench: no scenario '${id}'`);
  const samples =
    rounds === undefined
      ? await runOrderedRound(scenario, warmupShare)
      : await runInterleaved(scenario, rounds, warmupShare);
  await new Promise<void>((resolve, reject) =>
    process.send!(samples, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Runs this script in a fresh child process with `args`; resolves to what the child sent. */
function inChild<T>(id: string, args: string[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // fork() passes this process's execArgv (--expose-gc) on.
    const proc = fork(fileURLToPath(import.meta.url), ['--child', id, ...args]);
    let got: T | undefined;
    proc.on('message', (message) => (got = message as T));
    proc.on('error', reject);
    proc.on('exit', (code) =>
      got !== undefined && code === 0
        ? resolve(got)
        : reject(new Error(`bench: child for '${id}' exited with ${code}`)),
    );
  });
}

/** One fresh child process per round: samples[contender][round]. */
async function runIsolated(
  scenario: Scenario,
  rounds: number,
  warmupShare: number,
): Promise<Sample[][]> {
  const samples: Sample[][] = scenario.contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const result = await inChild<Sample[]>(scenario.id, ['--warmup', String(warmupShare)]);
    result.forEach((sample, c) => samples[c]!.push(sample));
  }
  return samples;
}

/**
 * Interleaved rounds spread over `processes` fresh processes, one after another: how V8 compiles
 * a contender differs from one process to the next, and one process's luck would be every round's.
 */
async function runSpread(
  scenario: Scenario,
  rounds: number,
  warmupShare: number,
  processes: number,
): Promise<Sample[][]> {
  const samples: Sample[][] = scenario.contenders.map(() => []);
  for (let p = 0; p < processes; p++) {
    const share = Math.floor(rounds / processes) + (p < rounds % processes ? 1 : 0);
    if (share === 0) continue;
    const args = ['--warmup', String(warmupShare), '--child-rounds', String(share)];
    const result = await inChild<Sample[][]>(scenario.id, args);
    result.forEach((own, c) => samples[c]!.push(...own));
  }
  return samples;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '15' },
      only: { type: 'string' },
      'no-json': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      child: { type: 'string' },
      'child-rounds': { type: 'string' },
      processes: { type: 'string', default: '1' },
      warmup: { type: 'string', default: String(DEFAULT_WARMUP_SHARE) },
    },
  });
  const warmupShare = Number(values.warmup);
  if (!(warmupShare >= 0 && warmupShare <= 1)) throw new Error('bench: --warmup must be in [0, 1]');
  const childRounds = values['child-rounds'];
  if (values.child !== undefined) {
    return child(
      values.child,
      warmupShare,
      childRounds === undefined ? undefined : Number(childRounds),
    );
  }
  const processes = Number(values.processes);
  if (!Number.isInteger(processes) || processes < 1) {
    throw new Error('bench: --processes must be >= 1');
  }

  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('bench: --rounds must be >= 1');
  const roundsGiven = process.argv.some((a) => a === '--rounds' || a.startsWith('--rounds='));
  const only = values.only?.split(',').map((s) => s.trim());
  const all = await loadScenarios();
  const selected = only ? all.filter((s) => only.includes(s.id)) : all;
  if (selected.length === 0) throw new Error(`bench: no scenario matches --only ${values.only}`);

  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  const load = () => loadavg().map((l) => l.toFixed(2));
  const loadBefore = load();
  console.log(
    `node ${process.version}, ${cpus().length} x ${cpu}; medians of interleaved rounds` +
      (processes > 1 ? ` in ${processes} processes; ` : '; ') +
      `warm-up ${warmupShare * 100} % after a full GC; load average ${loadBefore.join(' ')}\n`,
  );
  const started = performance.now();
  const rows: Row[] = [];
  const notes: string[] = [];
  const notesByScenario: Record<string, string[]> = {};
  for (const scenario of selected) {
    const t0 = performance.now();
    const n = roundsGiven ? rounds : (scenario.rounds ?? rounds);
    const samples = scenario.isolated
      ? await runIsolated(scenario, n, warmupShare)
      : processes > 1
        ? await runSpread(scenario, n, warmupShare, processes)
        : await runInterleaved(scenario, n, warmupShare);
    const scenarioRows = toRows(scenario, samples);
    rows.push(...scenarioRows);
    if (scenario.summarize) {
      const lines = scenario.summarize(scenarioRows);
      notes.push(...lines);
      notesByScenario[scenario.id] = lines;
    }
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${scenario.id}: ${scenario.title}  [${n} rounds, ${seconds} s]`);
  }
  const seconds = (performance.now() - started) / 1000;
  const loadAfter = load();

  console.log(`\n${formatTable(rows)}\n`);
  console.log(
    'vs baseline: median of the per-round ratios (bytes: differences) to the first row of the\n' +
      'scenario, measured in the same process and round; min .. max: their spread over the rounds.',
  );
  for (const note of notes) console.log(note);
  console.log(`Total ${seconds.toFixed(1)} s; load average at the end ${loadAfter.join(' ')}.`);

  if (!values['no-json']) {
    const dir = join(here, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'latest.json');
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      v8: process.versions.v8,
      cpus: cpus().length,
      cpu,
      seconds,
      warmupShare,
      processes,
      load: { before: loadBefore.map(Number), after: loadAfter.map(Number) },
    };
    const report = { ...meta, rows, notes };
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Results: ${file}`);
    for (const written of saveResults(dir, meta, rows, notesByScenario)) {
      console.log(`Results: ${written}`);
    }
  }
  if (values.strict && rows.some((r) => r.pass === false)) process.exitCode = 1;
}

await main();
