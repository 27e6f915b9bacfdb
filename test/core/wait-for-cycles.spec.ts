import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Group, SingleflightReentryError, WriteGroup } from '../../lib/index.js';
import { deferred, flushMicrotasks, rejectionOf, track } from '../support/deferred.js';

// With detectAsyncReentry, a cycle of waits between flights that different callers started:
// caller 1 runs b, whose work later calls a; caller 2 runs a, whose work calls b. Each flight
// would wait for the other forever; the call that closes the cycle fails instead.

/** What both engines share here: `do(key, fn)` and the number of busy keys. */
interface Engine {
  do<T>(key: string, fn: () => Promise<T>): Promise<T>;
  stats(): { size: number };
}
const engines: [string, () => Engine][] = [
  ['Group', () => new Group({ detectAsyncReentry: true })],
  ['WriteGroup', () => new WriteGroup({ detectAsyncReentry: true })],
];

/** Lets every queued promise reaction run, however deep: everything here is microtasks. */
const drain = () => new Promise((resolve) => setImmediate(resolve));

/** `promise`, or 'still pending' once every queued reaction ran: a hang fails the test at once. */
const settledOrNot = <T>(promise: Promise<T>) =>
  Promise.race([promise, drain().then(() => 'still pending')]);

async function reentryOf(promise: Promise<unknown>): Promise<SingleflightReentryError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(SingleflightReentryError);
  return error as SingleflightReentryError;
}

describe.each(engines)('%s: a wait-for cycle between flights of different callers', (_, make) => {
  it('fails the call that closes a -> b -> a with the chain; nothing hangs, both keys are free', async () => {
    const group = make();
    const gateA = deferred();
    const gateB = deferred();
    let closing!: Promise<string>;
    const caller1 = track(
      group.do('b', async () => {
        await gateB.promise;
        return `b(${await group.do('a', async () => 'a from b')})`;
      }),
    );
    const caller2 = track(
      group.do('a', async () => {
        await gateA.promise;
        closing = group.do('b', async () => 'b from a');
        return `a(${await closing})`;
      }),
    );
    gateB.resolve(); // b's work now waits for a
    await flushMicrotasks();
    gateA.resolve(); // a's work calls b, which waits for a: the cycle closes
    await flushMicrotasks();
    const error = await reentryOf(closing);
    expect(error.key).toBe('b');
    expect(error.message).toContain('"a" -> "b" -> "a"');
    await drain();
    expect(caller1.state.status).not.toBe('pending');
    expect(caller2.state).toEqual({ status: 'rejected', reason: error });
    expect(group.stats().size).toBe(0);
    await expect(group.do('a', async () => 'again')).resolves.toBe('again');
    await expect(group.do('b', async () => 'again')).resolves.toBe('again');
  });

  it('names a longer chain, a -> b -> c -> a, across three callers', async () => {
    const group = make();
    const gates = { a: deferred(), b: deferred(), c: deferred() };
    const next = { a: 'b', b: 'c', c: 'a' } as const;
    const inner: Partial<Record<keyof typeof gates, Promise<string>>> = {};
    const callers = (['a', 'b', 'c'] as const).map((key) =>
      track(
        group.do(key, async () => {
          await gates[key].promise;
          inner[key] = group.do(next[key], async () => `${next[key]} from ${key}`);
          return inner[key];
        }),
      ),
    );
    gates.b.resolve(); // b waits for c
    gates.c.resolve(); // c waits for a
    await flushMicrotasks();
    gates.a.resolve(); // a calls b: a -> b -> c -> a
    await flushMicrotasks();
    const error = await reentryOf(inner.a!);
    expect(error.message).toContain('"a" -> "b" -> "c" -> "a"');
    await drain();
    for (const caller of callers) expect(caller.state.status).not.toBe('pending');
    expect(group.stats().size).toBe(0);
  });

  it('follows a flight a waiting work started itself: a -> b (started by a) -> c -> a', async () => {
    const group = make();
    const gateA = deferred();
    const gateC = deferred();
    let closing!: Promise<string>;
    const caller1 = track(
      group.do('a', async () => {
        await gateA.promise;
        // b is idle: a's call starts its flight, and b's work calls c, which caller 2 runs.
        return group.do('b', async () => group.do('c', async () => 'c from b'));
      }),
    );
    const caller2 = track(
      group.do('c', async () => {
        await gateC.promise;
        closing = group.do('a', async () => 'a from c');
        return closing;
      }),
    );
    gateA.resolve();
    await flushMicrotasks();
    gateC.resolve();
    await flushMicrotasks();
    const error = await reentryOf(closing);
    expect(error.message).toContain('"c" -> "a" -> "b" -> "c"');
    await drain();
    expect(caller1.state.status).not.toBe('pending');
    expect(caller2.state.status).toBe('rejected');
    expect(group.stats().size).toBe(0);
  });

  it('sees no cycle in a diamond: two works that both wait for a third, called on its own too', async () => {
    const group = make();
    const gate = deferred();
    const d = async () => (await gate.promise, 'd');
    const outer = group.do('a', () =>
      Promise.all([group.do('b', () => group.do('d', d)), group.do('c', () => group.do('d', d))]),
    );
    const direct = group.do('d', d);
    await flushMicrotasks();
    gate.resolve();
    await expect(outer).resolves.toEqual(['d', 'd']);
    await expect(direct).resolves.toBe('d');
    expect(group.stats().size).toBe(0);
  });
});

describe('Group: a wait ends when its caller leaves', () => {
  it('b no longer waits for a once b’s call of a aborted: a may then call b', async () => {
    const group = new Group({ detectAsyncReentry: true });
    const gateA = deferred();
    const gateB = deferred();
    const leave = new AbortController();
    const a = group.do('a', async () => {
      await gateA.promise;
      return `a(${await group.do('b', async () => 'never')})`;
    });
    const b = group.do('b', async () => {
      const fromB = group.do('a', async () => 'never', { signal: leave.signal }); // joins a
      await rejectionOf(fromB);
      await gateB.promise;
      return 'b';
    });
    await flushMicrotasks();
    leave.abort(); // b's work stops waiting for a
    await flushMicrotasks();
    gateA.resolve(); // a calls b: no cycle now, a joins b's flight
    await flushMicrotasks();
    gateB.resolve();
    await expect(b).resolves.toBe('b');
    await expect(a).resolves.toBe('a(b)');
    expect(group.stats()).toMatchObject({ aborts: 1, size: 0 });
  });
});

describe('Group with shareErrors: false: the joiners of a failed flight wait for its second run', () => {
  it('fails the call that closes p -> k (second run) -> q -> p; nothing hangs', async () => {
    const group = new Group({ detectAsyncReentry: true, shareErrors: false });
    const [gateP, gateK, gateQ, gateRerun] = [deferred(), deferred(), deferred(), deferred()];
    let closing!: Promise<string>;
    const first = track(
      group.do('k', async () => {
        await gateK.promise;
        throw new Error('k failed');
      }),
    );
    // p joins k; its own work for k, run again for it once k fails, calls q.
    const p = track(
      group.do('p', async () => {
        await gateP.promise;
        return group.do('k', async () => {
          await gateRerun.promise;
          closing = group.do('q', async () => 'q from k');
          return `k(${await closing})`;
        });
      }),
    );
    const q = group.do('q', async () => {
      await gateQ.promise;
      return `q(${await group.do('p', async () => 'p from q')})`;
    });
    gateP.resolve(); // p waits for k
    await flushMicrotasks();
    gateK.resolve(); // k fails: its second run starts, for p
    await flushMicrotasks();
    gateQ.resolve(); // q waits for p
    await flushMicrotasks();
    gateRerun.resolve(); // the second run of k calls q: the cycle closes
    await flushMicrotasks();
    const error = await reentryOf(settledOrNot(closing));
    expect(error.message).toContain('"k" -> "q" -> "p" -> "k"');
    await drain();
    expect(first.state).toMatchObject({ status: 'rejected' });
    expect(p.state).toEqual({ status: 'rejected', reason: error });
    // q was a joiner of p too: with shareErrors off, its own work for p ran again.
    await expect(q).resolves.toBe('q(p from q)');
    expect(group.stats().size).toBe(0);
  });
});

describe('a Group and a WriteGroup with detectAsyncReentry: one wait-for graph', () => {
  it('fails the call that closes read -> write -> read across the two engines; nothing hangs', async () => {
    const reads = new Group({ detectAsyncReentry: true });
    const writes = new WriteGroup({ detectAsyncReentry: true });
    const gate = deferred();
    let closing!: Promise<string>;
    // Caller 1 reads, and its work then writes; caller 2 writes, and its work then reads.
    const caller1 = reads.do('r', async () => {
      await gate.promise;
      return `r(${await writes.do('w', async () => 'w from r')})`;
    });
    const caller2 = track(
      writes.do('w', async () => {
        await gate.promise;
        closing = reads.do('r', async () => 'r from w');
        return `w(${await closing})`;
      }),
    );
    gate.resolve(); // r's write waits for the run of w, whose read would wait for r
    await flushMicrotasks();
    const error = await reentryOf(settledOrNot(closing));
    expect(error.key).toBe('r');
    expect(error.message).toContain('"w" -> "r" -> "w"');
    await expect(caller1).resolves.toBe('r(w from r)');
    await drain();
    expect(caller2.state).toEqual({ status: 'rejected', reason: error });
    expect(reads.stats().size).toBe(0);
    expect(writes.stats().size).toBe(0);
  });

  it('follows a longer chain through both: a -> w -> c -> a', async () => {
    const reads = new Group({ detectAsyncReentry: true });
    const writes = new WriteGroup({ detectAsyncReentry: true });
    const gate = deferred();
    let closing!: Promise<string>;
    const a = reads.do('a', async () => {
      await gate.promise;
      return `a(${await writes.do('w', async () => 'w')})`;
    });
    const w = track(
      writes.do('w', async () => {
        await gate.promise;
        return `w(${await reads.do('c', async () => 'c')})`;
      }),
    );
    const c = track(
      reads.do('c', async () => {
        await gate.promise;
        closing = reads.do('a', async () => 'a');
        return `c(${await closing})`;
      }),
    );
    gate.resolve();
    await flushMicrotasks();
    const error = await reentryOf(settledOrNot(closing));
    expect(error.message).toContain('"c" -> "a" -> "w" -> "c"');
    await expect(a).resolves.toBe('a(w)');
    await drain();
    expect(w.state).toEqual({ status: 'rejected', reason: error });
    expect(c.state).toEqual({ status: 'rejected', reason: error });
    expect(reads.stats().size + writes.stats().size).toBe(0);
  });
});

/**
 * A random call graph: each key's work yields a few times, then calls some keys (itself included)
 * at once and waits for them all; callers from outside start keys at random moments. Without
 * cycle detection most cyclic graphs hang (seed 42: the first one already).
 */
const graphArb = fc.record({
  calls: fc.array(fc.subarray([0, 1, 2, 3]), { minLength: 4, maxLength: 4 }),
  yields: fc.array(fc.nat(4), { minLength: 4, maxLength: 4 }),
  callers: fc.array(fc.record({ key: fc.nat(3), at: fc.nat(6) }), { minLength: 1, maxLength: 6 }),
});
type Graph = typeof graphArb extends fc.Arbitrary<infer G> ? G : never;

function hasCycle({ calls }: Graph): boolean {
  const visiting = new Set<number>();
  const done = new Set<number>();
  const visit = (key: number): boolean => {
    if (done.has(key)) return false;
    if (visiting.has(key)) return true;
    visiting.add(key);
    const found = calls[key]!.some(visit);
    done.add(key);
    return found;
  };
  return calls.some((_, key) => visit(key));
}

async function runGraph(group: Engine, graph: Graph): Promise<void> {
  const yieldTimes = (n: number) => flushMicrotasks(n);
  const settled: Promise<unknown>[] = [];
  const reentries: unknown[] = [];
  const call = (key: number): Promise<unknown> => {
    const promise = group.do(`k${key}`, async () => {
      await yieldTimes(graph.yields[key]!);
      // Every call settles before the work does (Promise.all would end it at the first error
      // and leave the others running, to call this key again: an endless chain of new flights).
      const outcomes = await Promise.allSettled(graph.calls[key]!.map(call));
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    });
    const outcome = promise.catch((error: unknown) => {
      if (error instanceof SingleflightReentryError) reentries.push(error);
      else throw error;
    });
    settled.push(outcome);
    return promise;
  };
  const outside = graph.callers.map(({ key, at }) =>
    track(yieldTimes(at).then(() => call(key).catch(() => undefined))),
  );
  await drain();
  // Every call settled (a hang would leave one pending once nothing is queued any more).
  for (const caller of outside) expect(caller.state.status).toBe('fulfilled');
  const outcomes = settled.map(track);
  await flushMicrotasks();
  for (const outcome of outcomes) expect(outcome.state.status).toBe('fulfilled');
  expect(group.stats().size).toBe(0);
  // A re-entry error only where the graph has a cycle: no false alarm.
  if (!hasCycle(graph)) expect(reentries).toEqual([]);
}

describe.each(engines)('%s: random call graphs (property)', (_, make) => {
  it('every call settles, every key is freed, and only a cyclic graph is refused', async () => {
    await fc.assert(
      fc.asyncProperty(graphArb, (graph) => runGraph(make(), graph)),
      { seed: 42, numRuns: 100 },
    );
  }, 30_000);
});
