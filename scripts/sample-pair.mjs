#!/usr/bin/env node
// Starts two (or more) instances of the built sample against one Redis, each on its own port.
// `npm run sample:pair` builds once before this runs, so the instances share one output folder
// that nothing rebuilds while they run (two `npm start` would each rebuild it, and race).
//
//   REDIS_URL   the Redis every instance shares (default redis://127.0.0.1:6379)
//   PORTS       the instances' ports, comma-separated (default 3000,3001)
//
// Every other variable (TOKEN_LATENCY_SCALE, ...) reaches each instance as it is. Ctrl-C (or
// SIGTERM) stops them all; when one instance exits on its own, the others are stopped too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist-sample/sample/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error(`sample-pair: ${main} is missing; build the sample first (npm run sample:build)`);
  process.exit(1);
}

const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const ports = (process.env.PORTS ?? '3000,3001').split(',').map((port) => port.trim());
if (ports.length < 2 || new Set(ports).size !== ports.length || !ports.every(isPort)) {
  console.error(
    `sample-pair: PORTS must list two or more different ports, got "${process.env.PORTS}"`,
  );
  process.exit(1);
}

let stopping = false;
let exitCode = 0;
const children = ports.map((port) => {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: port, REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: Ctrl-C reaches this script only, which sends each instance one
    // SIGTERM (a second signal during Nest's shutdown would end it before its hooks have run).
    detached: true,
  });
  prefix(child.stdout, process.stdout, port);
  prefix(child.stderr, process.stderr, port);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(
        `sample-pair: the instance on port ${port} exited (${signal ?? code}); stopping the others`,
      );
      exitCode = 1;
      stop();
    }
  });
  return child;
});
console.log(
  `sample-pair: ${ports.length} instances on ports ${ports.join(', ')}, sharing ${redisUrl}`,
);

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);
await Promise.all(children.map((child) => new Promise((resolve) => child.once('close', resolve))));
if (exitCode === 0) console.log('sample-pair: every instance has stopped');
process.exit(exitCode);

/** Asks every running instance to shut down (the sample closes cleanly on SIGTERM). */
function stop() {
  stopping = true;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

function isPort(text) {
  const port = Number(text);
  return /^\d+$/.test(text) && port >= 1 && port <= 65535;
}

/** Copies a child's output line by line, each line led by the instance's port. */
function prefix(from, to, port) {
  let rest = '';
  from.setEncoding('utf8');
  from.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) to.write(`[${port}] ${line}\n`);
  });
  from.on('end', () => {
    if (rest !== '') to.write(`[${port}] ${rest}\n`);
  });
}
