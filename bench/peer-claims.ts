/**
 * The behaviour behind the README's peer comparison, checked on the installed versions rather than
 * taken from their docs. After `npx tsc -p bench/tsconfig.json`, `node dist-bench/bench/peer-claims.js`
 * (or `npx tsx bench/peer-claims.ts`) prints one line per contender and question:
 *
 *   burst        100 concurrent callers of one key, work that resolves after 5 ms: executions.
 *   shared       does a joiner get the leader's promise itself (nothing allocated per joiner)?
 *   kept         a call right after the flight settled (next macrotask): does it run the work again,
 *                or is the value served from a cache?
 *   sync throw   the work throws synchronously; 20 ms later a call with working work: does that
 *                call run (key free), or get the old error (key poisoned)?
 *   errors       10 concurrent callers, work that rejects after 5 ms: executions, and whether the
 *                callers get the work's own error object.
 *   undefined    work that resolves `undefined`: what the caller gets.
 *   clear        p-memoize only: the key after a synchronous throw, 1 s later and after
 *                pMemoizeClear().
 *   short ttl    bentocache only: bursts with a short ttl (waiters take the key's lock one after
 *                another and read the value from the cache, so a value that expired before the
 *                last waiter got the lock makes the waiters after that run the work again).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pMemoize, { pMemoizeClear } from 'p-memoize';
import type { Dedupe } from './baseline.js';
import { type Peer, bentoGetOrSet, own, peers } from './peers.js';

const later = <T>(value: T, ms = 5): Promise<T> => sleep(ms).then(() => value);

/** Calls dedupe.do, turning a synchronous throw into a rejection (and saying so). */
function call<T>(dedupe: Dedupe, key: string, fn: () => Promise<T>): [Promise<T>, boolean] {
  try {
    return [dedupe.do(key, fn), false];
  } catch (error) {
    return [Promise.reject(error), true];
  }
}

async function burst(dedupe: Dedupe, callers: number, workMs = 5): Promise<string> {
  let executions = 0;
  const work = () => {
    executions++;
    return later(42, workMs);
  };
  const all = Array.from({ length: callers }, () => dedupe.do('burst', work));
  const values = await Promise.all(all);
  const right = values.every((v) => v === 42);
  return `${executions} execution${executions === 1 ? '' : 's'} for ${callers} callers${right ? '' : ', WRONG VALUES'}`;
}

async function shared(dedupe: Dedupe): Promise<string> {
  const work = () => later(1);
  const a = dedupe.do('shared', work);
  const b = dedupe.do('shared', work);
  await Promise.all([a, b]);
  return a === b ? "yes: the leader's promise" : 'no: a new promise per caller';
}

async function kept(dedupe: Dedupe): Promise<string> {
  let executions = 0;
  const work = () => {
    executions++;
    return later(7);
  };
  await dedupe.do('kept', work);
  await new Promise((resolve) => setImmediate(resolve));
  await dedupe.do('kept', work);
  return executions === 2 ? 'no: the next call runs the work' : 'yes: the next call is a cache hit';
}

async function syncThrow(dedupe: Dedupe): Promise<string> {
  const boom = new Error('sync boom');
  const [first, thrownOut] = call(dedupe, 'sync', () => {
    throw boom;
  });
  const firstError = await first.then(
    () => 'resolved',
    (e: unknown) => (e === boom ? 'the error' : `${(e as Error).name}`),
  );
  await sleep(20);
  let ran = false;
  const [second] = call(dedupe, 'sync', () => {
    ran = true;
    return Promise.resolve(2);
  });
  const outcome = await second.then(
    (v) => `got ${v}`,
    (e: unknown) => (e === boom || (e as Error).cause === boom ? 'the old error' : String(e)),
  );
  const how = thrownOut ? 'thrown out of the call' : `rejects with ${firstError}`;
  return ran
    ? `${how}; key free (next call runs, ${outcome})`
    : `${how}; KEY POISONED: 20 ms later the next call gets ${outcome} without running`;
}

async function errors(dedupe: Dedupe): Promise<string> {
  let executions = 0;
  const boom = new Error('async boom');
  const work = () => {
    executions++;
    return later(0).then(() => Promise.reject(boom));
  };
  const settled = await Promise.allSettled(
    Array.from({ length: 10 }, () => dedupe.do('errors', work)),
  );
  const reasons = settled.map((s) => (s.status === 'rejected' ? s.reason : undefined));
  const same = reasons.every((r) => r === boom);
  const wrapped = reasons.every(
    (r: unknown) => r instanceof Error && r !== boom && r.cause === boom,
  );
  const what = same
    ? 'each gets the error itself'
    : wrapped
      ? `each gets a ${(reasons[0] as Error).name} with it as cause`
      : 'other';
  return `${executions} execution${executions === 1 ? '' : 's'} for 10 callers; ${what}`;
}

async function undefinedValue(dedupe: Dedupe): Promise<string> {
  return dedupe
    .do('undefined', () => Promise.resolve(undefined))
    .then(
      (v) => `resolves ${String(v)}`,
      (e: unknown) => `rejects: ${(e as Error).name}: ${(e as Error).message.split('\n')[0]}`,
    );
}

/** p-memoize with cache: false after a synchronous throw: 1 s later, and after pMemoizeClear. */
async function pMemoizePoisoned(): Promise<string> {
  let runs = 0;
  const memoized = pMemoize(
    (_key: string): Promise<string> => {
      if (++runs === 1) throw new Error('sync boom');
      return Promise.resolve('ok');
    },
    { cache: false },
  );
  const outcome = () =>
    memoized('k').then(
      (v) => v,
      (e: unknown) => `rejects '${(e as Error).message}'`,
    );
  await outcome();
  await sleep(1000);
  const later = await outcome();
  let clear = 'cleared';
  try {
    pMemoizeClear(memoized);
  } catch (e) {
    clear = `pMemoizeClear throws '${(e as Error).message}'`;
  }
  const after = await outcome();
  return `1 s later: ${later}; ${clear}; then: ${after}; runs: ${runs}`;
}

const questions: Array<[string, (d: Dedupe) => Promise<string>]> = [
  ['burst', (d) => burst(d, 100)],
  ['shared', shared],
  ['kept', kept],
  ['sync throw', syncThrow],
  ['errors', errors],
  ['undefined', undefinedValue],
];

async function main(): Promise<void> {
  const contenders: Peer[] = [...own, ...peers];
  for (const peer of contenders) {
    console.log(`${peer.name}  (${peer.config})`);
    for (const [name, ask] of questions) {
      // A fresh instance per question: no answer leaks into the next.
      const answer = await ask(peer.make()).catch((e: unknown) => `THREW ${String(e)}`);
      console.log(`  ${name.padEnd(11)} ${answer}`);
    }
  }
  console.log('p-memoize, after a synchronous throw');
  console.log(`  ${'clear'.padEnd(11)} ${await pMemoizePoisoned()}`);
  console.log('bentocache getOrSet, short ttl');
  console.log(`  ${'ttl 1 ms'.padEnd(11)} ${await burst(bentoGetOrSet(1), 100, 10)}`);
  console.log(`  ${'ttl 1 s'.padEnd(11)} ${await burst(bentoGetOrSet(1000), 100_000, 10)}`);
}

await main();
