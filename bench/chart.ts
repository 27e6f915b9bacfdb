/**
 * A hand-written SVG bar chart of the peer scenarios (PEER-*), for the README: one panel per
 * scenario, one bar per contender. Time panels show the median of the per-round ratios to the Map
 * baseline on a log scale; the heap panel shows the extra bytes per waiting joiner on a linear
 * scale. A row whose check failed (the work ran more often than it should) is marked.
 *
 * bench/index.ts renders bench/results/peers.svg after a run that has peer rows. To render it from
 * a saved results file: `node dist-bench/bench/chart.js bench/results/<date>-<machine>.json`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './harness.js';

export interface ChartMeta {
  date: string;
  node: string;
  cpus: number;
  cpu: string;
}

const WIDTH = 920;
const LABEL_W = 190;
const PLOT_X = LABEL_W + 10;
const PLOT_W = 560;
const BAR_H = 16;
const BAR_GAP = 6;
const PANEL_HEAD = 30;
const PANEL_GAP = 18;
const COLORS = ['#9e9e9e', '#1565c0', '#ef6c00', '#2e7d32', '#6a1b9a', '#c62828', '#00838f'];

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function ratioText(value: number): string {
  return value >= 10 ? `${value.toFixed(0)}x` : `${value.toFixed(2)}x`;
}

function bytesText(value: number): string {
  const exact = `${value >= 0 ? '+' : ''}${value.toFixed(2)} B`;
  return Math.abs(value) < 0.5 ? `≈ 0 (${exact})` : `+${value.toFixed(0)} B`;
}

/** The 1-2-5 value at or below (down) / at or above (up) `v`. */
function niceBound(v: number, way: 'down' | 'up'): number {
  const decade = 10 ** Math.floor(Math.log10(v));
  const steps = [1, 2, 5, 10].map((m) => m * decade);
  return way === 'down' ? steps.filter((s) => s <= v).at(-1)! : steps.find((s) => s >= v)!;
}

/** Gridline values of a log axis from `lo` to `hi`: 1, 2, 5 per decade. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let decade = 10 ** Math.floor(Math.log10(lo)); decade <= hi; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const t = decade * m;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

function linearTicks(hi: number): number[] {
  const step = 10 ** Math.floor(Math.log10(hi / 2));
  const nice = [1, 2, 5].map((m) => m * step).find((s) => hi / s <= 6) ?? step * 10;
  const ticks: number[] = [];
  for (let t = 0; t <= hi * 1.001; t += nice) ticks.push(t);
  return ticks;
}

/** The SVG of every PEER-* scenario in `rows`, in their order. */
export function renderPeersChart(rows: readonly Row[], meta: ChartMeta): string {
  const scenarioIds = [
    ...new Set(rows.filter((r) => r.scenario.startsWith('PEER-')).map((r) => r.scenario)),
  ].sort();
  const contenders = [
    ...new Set(rows.filter((r) => r.scenario.startsWith('PEER-')).map((r) => r.contender)),
  ];
  const color = (name: string) => COLORS[contenders.indexOf(name) % COLORS.length]!;
  const value = (row: Row) => row.vsBaseline ?? (row.unit.startsWith('bytes') ? 0 : 1);

  const out: string[] = [];
  let y = 62;
  // One log axis for all time panels, so bars compare across scenarios.
  const timeRows = rows.filter((r) => r.scenario.startsWith('PEER-') && r.unit.startsWith('ns'));
  const ratios = timeRows.map(value);
  const lo = niceBound(Math.min(0.5, ...ratios), 'down');
  const hi = niceBound(Math.max(2, ...ratios), 'up');
  const logX = (v: number) => PLOT_X + (PLOT_W * Math.log10(v / lo)) / Math.log10(hi / lo);

  for (const id of scenarioIds) {
    const panel = rows.filter((r) => r.scenario === id);
    const bytes = panel[0]!.unit.startsWith('bytes');
    const height = panel.length * (BAR_H + BAR_GAP);
    const title = `${id}: ${panel[0]!.title.replace(/^peers: /, '')}`;
    out.push(
      `<text x="12" y="${y + 14}" font-size="13" font-weight="600">${escape(title)}</text>`,
      `<text x="${WIDTH - 12}" y="${y + 14}" font-size="11" fill="#555" text-anchor="end">${
        bytes
          ? 'extra heap bytes per waiting joiner (linear)'
          : 'time per call vs Map baseline (log)'
      }</text>`,
    );
    const top = y + PANEL_HEAD;
    let x: (v: number) => number;
    let ticks: number[];
    let tickText: (t: number) => string;
    if (bytes) {
      const max = Math.max(10, ...panel.map(value));
      ticks = linearTicks(max);
      const end = ticks.at(-1)!;
      x = (v: number) => PLOT_X + (PLOT_W * Math.max(0, v)) / end;
      tickText = (t) => `${t} B`;
    } else {
      x = logX;
      ticks = logTicks(lo, hi);
      tickText = (t) => `${t}x`;
    }
    for (const t of ticks) {
      const tx = x(t).toFixed(1);
      const strong = !bytes && t === 1;
      out.push(
        `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + height}" stroke="${strong ? '#444' : '#ddd'}" stroke-width="${strong ? 1.2 : 1}"/>`,
        `<text x="${tx}" y="${top + height + 12}" font-size="10" fill="#666" text-anchor="middle">${tickText(t)}</text>`,
      );
    }
    panel.forEach((row, i) => {
      const by = top + i * (BAR_H + BAR_GAP);
      const v = value(row);
      const start = bytes ? PLOT_X : x(Math.min(1, v));
      const end = bytes ? x(v) : x(Math.max(1, v));
      const width = Math.max(bytes ? 1.5 : 1, end - start);
      const failed = row.pass === false;
      const label = bytes
        ? row.vsBaseline === undefined
          ? `baseline (${row.median.toFixed(2)} B)`
          : bytesText(v)
        : row.vsBaseline === undefined
          ? '1x (baseline)'
          : ratioText(v);
      out.push(
        `<text x="${LABEL_W}" y="${by + BAR_H - 4}" font-size="12" text-anchor="end">${escape(row.contender)}</text>`,
        `<rect x="${start.toFixed(1)}" y="${by}" width="${width.toFixed(1)}" height="${BAR_H}" fill="${color(row.contender)}"${
          failed ? ' fill-opacity="0.45" stroke="#c62828" stroke-dasharray="3 2"' : ''
        }/>`,
        `<text x="${(Math.max(start + width, bytes ? PLOT_X : x(1)) + 5).toFixed(1)}" y="${by + BAR_H - 4}" font-size="11">${escape(
          label + (failed ? `, check failed: ${row.check.split(',')[0]}` : ''),
        )}</text>`,
      );
    });
    y = top + height + 16 + PANEL_GAP;
  }

  const day = meta.date.slice(0, 10);
  const rounds = rows.find((r) => r.scenario.startsWith('PEER-'))?.samples.length ?? 0;
  const footer = [
    `${day}, node ${meta.node}, ${meta.cpus} x ${meta.cpu}; ${rounds} interleaved rounds.`,
    'Each ratio is the median of the per-round ratios to the Map baseline measured in the same process and round;',
    'a shared, noisy machine: read the ratios, not absolute times. Lower is better.',
    `Reproduce: npm run bench -- --only ${scenarioIds.join(',')} --rounds ${rounds}`,
  ];
  footer.forEach((line, i) =>
    out.push(`<text x="12" y="${y + i * 15}" font-size="11" fill="#555">${escape(line)}</text>`),
  );
  const height = y + footer.length * 15 + 4;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="600">In-flight dedupe: nestjs-singleflight and peers against a bare Map&lt;string, Promise&gt;</text>`,
    `<text x="12" y="44" font-size="12" fill="#555">Same workloads as the core scenarios, all contenders in one process, interleaved rounds. Bars start at the baseline (1x).</text>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

// `node dist-bench/bench/chart.js <results.json> [out.svg]`: re-render from a saved run.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, out] = process.argv.slice(2);
  if (!file) throw new Error('usage: node dist-bench/bench/chart.js <results.json> [out.svg]');
  const report = JSON.parse(readFileSync(file, 'utf8')) as ChartMeta & { rows: Row[] };
  const target = out ?? join(dirname(file), 'peers.svg');
  writeFileSync(target, renderPeersChart(report.rows, report));
  console.log(`Chart: ${target}`);
}
