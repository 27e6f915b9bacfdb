/**
 * Results kept per day and machine: bench/results/<YYYY-MM-DD>-<machine>.json, where <machine> is
 * the first 8 hex digits of a SHA-256 of /etc/machine-id (or of the host name), so files of several
 * machines sit side by side without naming them. A later run on the same day and machine replaces
 * the rows of the scenarios it ran and keeps the others; `runs` lists the runs that contributed.
 * After a run with peer rows (PEER-*), bench/results/peers.svg is rendered from that file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { renderPeersChart } from './chart.js';
import type { Row } from './harness.js';

export interface RunMeta {
  date: string;
  node: string;
  v8: string;
  cpus: number;
  cpu: string;
  seconds: number;
  /** The share of each workload run untimed before each timed run (after a full GC). */
  warmupShare: number;
  /** The machine's 1, 5 and 15 min load averages at the start and the end of the run. */
  load: { before: number[]; after: number[] };
}

interface DatedReport extends RunMeta {
  machine: string;
  runs: Array<RunMeta & { scenarios: string[] }>;
  rows: Row[];
  /** Lines printed under the table, by scenario. */
  notes: Record<string, string[]>;
}

export function machineId(): string {
  let source = hostname();
  try {
    source = readFileSync('/etc/machine-id', 'utf8').trim() || source;
  } catch {
    // no machine-id (macOS, Windows): the host name
  }
  return createHash('sha256').update(source).digest('hex').slice(0, 8);
}

/** Writes (or updates) the day's file, and peers.svg when there are peer rows. Returns the paths. */
export function saveResults(
  dir: string,
  meta: RunMeta,
  rows: readonly Row[],
  notes: Record<string, string[]>,
): string[] {
  const machine = machineId();
  const file = join(dir, `${meta.date.slice(0, 10)}-${machine}.json`);
  const ran = new Set(rows.map((r) => r.scenario));
  let previous: DatedReport | undefined;
  if (existsSync(file)) {
    try {
      previous = JSON.parse(readFileSync(file, 'utf8')) as DatedReport;
    } catch {
      previous = undefined; // unreadable: start the day's file again
    }
  }
  const keptNotes = Object.entries(previous?.notes ?? {}).filter(([id]) => !ran.has(id));
  const report: DatedReport = {
    ...meta,
    machine,
    runs: [...(previous?.runs ?? []), { ...meta, scenarios: [...ran] }],
    rows: [...(previous?.rows ?? []).filter((r) => !ran.has(r.scenario)), ...rows],
    notes: { ...Object.fromEntries(keptNotes), ...notes },
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const written = [file];
  if (rows.some((r) => r.scenario.startsWith('PEER-'))) {
    const svg = join(dir, 'peers.svg');
    writeFileSync(svg, renderPeersChart(report.rows, meta));
    written.push(svg);
  }
  return written;
}
