/**
 * `npm run load [-- <url>]`: 1000 concurrent token requests spread over the 4 regions, first with
 * singleflight, then without (`?singleflight=off`), and a table of what each mode cost. Without a
 * URL it starts the sample in this process with TOKEN_LATENCY_SCALE=0.05 (unless set).
 * LOAD_REQUESTS changes the number of requests.
 */
import type { INestApplication } from '@nestjs/common';
import autocannon from 'autocannon';
import { cpus } from 'node:os';

const REGIONS = ['america', 'europe', 'africa', 'asia'];
const requests = Number(process.env.LOAD_REQUESTS ?? 1000);

interface Row {
  mode: string;
  requests: number;
  ok: number;
  backendCalls: number;
  p50: number;
  p99: number;
}

async function startSample(): Promise<INestApplication> {
  // Before the app is imported: it reads its environment once.
  process.env.TOKEN_LATENCY_SCALE ??= '0.05';
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('./app.module.js');
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

async function backendCalls(url: string): Promise<number> {
  const response = await fetch(new URL('/stats', url));
  if (!response.ok) throw new Error(`GET /stats answered ${response.status}`);
  const stats = (await response.json()) as { backendCalls: { total: number } };
  return stats.backendCalls.total;
}

async function run(url: string, mode: string, query: string, count = requests): Promise<Row> {
  // A business name of its own, so no token cached by an earlier run hides the backend calls.
  const business = `load-${mode}-${Date.now()}`;
  let sent = 0;
  const before = await backendCalls(url);
  const result = await autocannon({
    url,
    connections: count,
    amount: count,
    timeout: 60,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          path: `/tokens/${REGIONS[sent++ % REGIONS.length]}/${business}${query}`,
        }),
      },
    ],
  });
  return {
    mode,
    requests: result.requests.total,
    ok: result['2xx'],
    backendCalls: (await backendCalls(url)) - before,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

function table(rows: Row[]): string {
  const header = ['mode', 'requests', '2xx', 'backend calls', 'p50 ms', 'p99 ms'];
  const cells = rows.map((row) => [
    row.mode,
    String(row.requests),
    String(row.ok),
    String(row.backendCalls),
    String(row.p50),
    String(row.p99),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

const target = process.argv[2];
const app = target === undefined ? await startSample() : undefined;
const url = target ?? (await app!.getUrl());
try {
  const where = app
    ? `the sample in-process, TOKEN_LATENCY_SCALE=${process.env.TOKEN_LATENCY_SCALE}`
    : url;
  console.log(
    `${requests} concurrent GET /tokens/:region/:business over 4 regions against ${where}`,
  );
  console.log(`${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores\n`);
  // A short warm-up of both paths first, not reported, so neither mode pays for a cold start.
  await run(url, 'warm-up', '', 100);
  await run(url, 'warm-up-off', '?singleflight=off', 100);
  const rows = [
    await run(url, 'singleflight', ''),
    await run(url, 'singleflight=off', '?singleflight=off'),
  ];
  console.log(table(rows));
} finally {
  await app?.close();
}
