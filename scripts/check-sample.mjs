#!/usr/bin/env node
// CI check of the sample as the README runs it: `npm run sample:pair` builds the sample once
// (`nest build`, the same output `npm start` serves) and starts two instances against one private
// redis-server. Concurrent token requests to both instances (region names in any case) must make
// one backend call between them, and Ctrl-C must stop both cleanly, without a warning.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const [redisPort, portA, portB] = await Promise.all([freePort(), freePort(), freePort()]);
const redis = spawn(
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
let output = '';
const pair = spawn('npm', ['run', 'sample:pair'], {
  env: {
    ...process.env,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    PORTS: `${portA},${portB}`,
    TOKEN_LATENCY_SCALE: '0.05',
    NO_COLOR: '1',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true, // its own process group, so that a failed check can stop all of it
});
pair.stdout.on('data', (chunk) => (output += chunk));
pair.stderr.on('data', (chunk) => (output += chunk));
const exited = new Promise((resolve) =>
  pair.once('close', (code, signal) => resolve(signal ?? code)),
);

try {
  // The build takes about a minute on a loaded 2-core machine.
  await until(async () => (await Promise.all([portA, portB].map(serving))).every(Boolean), 300_000);
  const urls = Array.from({ length: 10 }, (_, i) => {
    const region = ['America', 'america', 'AMERICA'][i % 3];
    return `http://127.0.0.1:${i % 2 ? portA : portB}/tokens/${region}/acme`;
  });
  const bodies = await Promise.all(urls.map((url) => fetch(url).then(json)));
  const tokens = new Set(bodies.map((body) => body.token));
  const stats = await Promise.all(
    [portA, portB].map((port) => fetch(`http://127.0.0.1:${port}/stats`).then(json)),
  );
  const backendCalls = stats.reduce((sum, s) => sum + s.backendCalls.total, 0);
  check(tokens.size === 1, `10 requests over two instances got ${tokens.size} tokens, not 1`);
  check(backendCalls === 1, `two instances made ${backendCalls} backend calls, not 1`);

  process.kill(-pair.pid, 'SIGINT'); // Ctrl-C: to every process of the terminal's foreground group
  // npm itself ends by the signal; what counts is that the instances stopped and said nothing.
  const code = await Promise.race([exited, sleep(30_000).then(() => 'a hang')]);
  check(code !== 'a hang', 'npm run sample:pair did not end within 30 s of SIGINT');
  check(
    output.includes('sample-pair: every instance has stopped'),
    'the instances did not all stop',
  );
  const stillUp = (await Promise.all([portA, portB].map(serving))).some(Boolean);
  check(!stillUp, 'an instance still answers after the pair stopped');
  const builds = output.split('\n').filter((line) => line.trim() === '> nest build').length;
  check(builds === 1, `the sample was built ${builds} times, not once`);
  check(!/WARN|ERROR/.test(output), 'the instances logged a warning or an error');
  console.log(
    `check-sample: two instances, 10 requests, 1 backend call, built once, stopped cleanly`,
  );
} catch (error) {
  console.error(output);
  console.error(`check-sample: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  try {
    process.kill(-pair.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  redis.kill('SIGKILL');
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

async function json(response) {
  check(response.ok, `${response.url} answered ${response.status}`);
  return response.json();
}

async function serving(port) {
  try {
    return (await fetch(`http://127.0.0.1:${port}/stats`)).ok;
  } catch {
    return false;
  }
}

async function until(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    check(Date.now() < deadline, `the sample did not answer within ${timeoutMs} ms`);
    check(pair.exitCode === null, `npm run sample:pair exited (${pair.exitCode}) before serving`);
    await sleep(500);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
