/**
 * Randomized model test of WriteGroup on virtual time: calls (each carrying a new version, the
 * newest state) arrive at random moments, pushes take random durations, and a checker asserts the
 * contract on the recorded trace. The same checker run on a naive port of the obvious design must
 * fail, which shows it can catch the bugs it is meant to catch.
 */
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { WriteGroup } from '../../lib/index.js';

const SEED = 20_240_611;
const TRIALS = 2000;

// Captured before any test could install fake timers.
const realSetImmediate = setImmediate;
/** Resolves after every queued microtask (and every one they queue) has run. */
const quiesce = () => new Promise<void>((resolve) => realSetImmediate(resolve));

/** A deterministic clock: timers fire in (time, scheduling order); microtasks drain between them. */
class VirtualClock {
  now = 0;
  #order = 0;
  #timers: { at: number; order: number; fire: () => void }[] = [];

  at(time: number, fire: () => void): void {
    this.#timers.push({ at: time, order: this.#order++, fire });
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(this.now + ms, resolve));
  }

  async run(maxSteps = 10_000): Promise<void> {
    await quiesce();
    for (let step = 0; this.#timers.length > 0; step++) {
      if (step > maxSteps) throw new Error('the virtual clock never came to rest');
      let next = 0;
      for (let i = 1; i < this.#timers.length; i++) {
        const [t, n] = [this.#timers[i], this.#timers[next]];
        if (t.at < n.at || (t.at === n.at && t.order < n.order)) next = i;
      }
      const [timer] = this.#timers.splice(next, 1);
      this.now = timer.at;
      timer.fire();
      await quiesce();
    }
  }
}

/** The `do(key, fn)` shape shared by WriteGroup and the naive port. */
interface WriteGroupLike {
  do<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * NEGATIVE CONTROL: the naive design. The first call runs; calls that arrive meanwhile wait for it
 * and then share one singleflight run (the first waiter's fn, as singleflight does); a call that
 * arrives during that shared run finds no wait entry and runs at once, concurrently.
 */
class NaiveWriteGroup implements WriteGroupLike {
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #waiting = new Map<string, Promise<unknown>>();

  do<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running === undefined) {
      const run = fn();
      this.#running.set(key, run);
      const release = () => {
        if (this.#running.get(key) === run) this.#running.delete(key);
      };
      run.then(release, release);
      return run;
    }
    let shared = this.#waiting.get(key);
    if (shared === undefined) {
      shared = running
        .catch(() => undefined)
        .then(() => {
          this.#waiting.delete(key);
          return fn();
        });
      this.#waiting.set(key, shared);
    }
    return shared as Promise<T>;
  }
}

type Key = 'a' | 'b';

interface Scenario {
  /** Each call arrives `gap` after the previous one. */
  calls: { gap: number; key: Key }[];
  /** Durations of successive tries, cycled. */
  durations: number[];
  /** How many tries of run #i fail before one succeeds (cycled; empty = none fail). */
  failures: number[];
}

interface Call {
  key: Key;
  version: number;
  time: number;
  tick: number;
  outcome?: { ok: boolean; run: number; time: number };
}

interface Run {
  id: number;
  key: Key;
  /** The version this run pushes: that of the call whose fn it runs. */
  version: number;
  /** With merge: the versions folded into its args. */
  versions?: number[];
  start: number;
  startTick: number;
  end?: number;
  endTick?: number;
  tries: number;
  ok?: boolean;
}

interface Trace {
  calls: Call[];
  runs: Run[];
  pushed: Map<Key, number>;
  violations: string[];
}

class RunFailed extends Error {
  constructor(readonly run: number) {
    super(`run #${run} failed`);
  }
}

type Mode = 'latest' | 'merge';

async function simulate(
  group: WriteGroupLike,
  scenario: Scenario,
  mode: Mode = 'latest',
): Promise<Trace> {
  const clock = new VirtualClock();
  let tick = 0; // orders every call, run start and run end
  let tries = 0;
  const calls: Call[] = [];
  const runs: Run[] = [];
  const violations: string[] = [];
  const active = new Map<Key, number>();
  const pushed = new Map<Key, number>();

  // Each call gets its own fn; a run is the first invocation of one, a retry invokes it again.
  const fnFor = (key: Key, version: number) => {
    let run: Run | undefined;
    return async (versions?: number[]): Promise<number> => {
      const inFlight = active.get(key) ?? 0;
      if (inFlight > 0) {
        violations.push(`(a) a try of key ${key} started at t=${clock.now} while another ran`);
      }
      if (run === undefined) {
        run = {
          id: runs.length,
          key,
          version,
          versions,
          start: clock.now,
          startTick: ++tick,
          tries: 0,
        };
        runs.push(run);
      }
      const self = run;
      const fails = self.tries < (scenario.failures[self.id % scenario.failures.length] ?? 0);
      self.tries++;
      active.set(key, inFlight + 1);
      await clock.sleep(scenario.durations[tries++ % scenario.durations.length]);
      active.set(key, (active.get(key) ?? 1) - 1);
      self.end = clock.now;
      self.endTick = ++tick;
      self.ok = !fails;
      if (fails) throw new RunFailed(self.id);
      pushed.set(key, self.version);
      return self.id;
    };
  };

  const call = (i: number) => {
    const { key } = scenario.calls[i];
    const record: Call = { key, version: i + 1, time: clock.now, tick: ++tick };
    calls.push(record);
    const fn = fnFor(key, record.version);
    const result =
      mode === 'merge' && group instanceof WriteGroup
        ? group.do<number, [number[]]>(key, fn, {
            args: [[record.version]],
            merge: ([a], [b]): [number[]] => [[...a, ...b]],
          })
        : group.do(key, () => fn());
    result.then(
      (run) => (record.outcome = { ok: true, run, time: clock.now }),
      (error: unknown) =>
        (record.outcome = {
          ok: false,
          run: error instanceof RunFailed ? error.run : -1,
          time: clock.now,
        }),
    );
    const next = scenario.calls[i + 1];
    if (next !== undefined) clock.at(clock.now + next.gap, () => call(i + 1));
  };

  clock.at(scenario.calls[0].gap, () => call(0));
  await clock.run();
  return { calls, runs, pushed, violations };
}

const v = (calls: Call[]) => calls.map((c) => `v${c.version}`).join(',') || 'none';

/** Every way the trace breaks the contract; empty if it keeps it. */
function contractViolations(trace: Trace, { allSucceed = true, mode = 'latest' as Mode } = {}) {
  const out = [...trace.violations];
  const byKey = new Map<Key, Call[]>();
  for (const c of trace.calls) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c]);

  for (const [key, calls] of byKey) {
    const runs = trace.runs.filter((r) => r.key === key).sort((x, y) => x.startTick - y.startTick);
    const during = (run: Run) =>
      calls.filter((c) => run.startTick < c.tick && c.tick < (run.endTick ?? Infinity));
    const newest = calls[calls.length - 1].version;
    const last = runs[runs.length - 1];

    // (b) the final state is the newest event's.
    if (last?.version !== newest) {
      out.push(
        `(b) key ${key}: the last run pushed v${last?.version}, the newest event is v${newest}`,
      );
    } else if (allSucceed && trace.pushed.get(key) !== newest) {
      out.push(`(b) key ${key}: final state v${trace.pushed.get(key)}, newest event v${newest}`);
    } else if (!allSucceed && last.ok && trace.pushed.get(key) !== newest) {
      out.push(`(b) key ${key}: the last run succeeded but the final state is not v${newest}`);
    }

    // (c) a run follows a run only for the calls made during it, and only one run for all of them.
    runs.forEach((run, j) => {
      const callers = calls.filter((c) => c.outcome?.run === run.id);
      const prev = runs[j - 1];
      const burst = prev === undefined ? [] : during(prev);
      if (burst.length > 0) {
        if (run.start !== prev.end) {
          out.push(
            `(c) key ${key}: run #${run.id} started at t=${run.start}, not when #${prev.id} ended`,
          );
        }
        if (v(callers) !== v(burst)) {
          out.push(
            `(c) key ${key}: calls ${v(burst)} arrived during run #${prev.id}, ` +
              `but the next run #${run.id} served ${v(callers)}`,
          );
        }
      } else if (
        callers.length !== 1 ||
        callers[0].time !== run.start ||
        (prev !== undefined && callers[0].tick < (prev.endTick ?? Infinity))
      ) {
        out.push(
          `(c) key ${key}: run #${run.id} (t=${run.start}) has no call made during the previous run ` +
            `and was not started by one call on an idle key (served ${v(callers)})`,
        );
      }
      if (mode === 'merge' && v(callers) !== (run.versions ?? []).map((x) => `v${x}`).join(',')) {
        out.push(
          `(c) key ${key}: run #${run.id} merged [${run.versions}] for callers ${v(callers)}`,
        );
      }
    });
    if (last !== undefined && during(last).length > 0) {
      out.push(
        `(c) key ${key}: calls ${v(during(last))} arrived during the last run; none followed`,
      );
    }

    // (d) every caller settles, with the first run that started after it called.
    for (const c of calls) {
      const o = c.outcome;
      if (o === undefined) {
        out.push(`(d) key ${key}: the call v${c.version} (t=${c.time}) never settled`);
        continue;
      }
      const run = trace.runs[o.run];
      if (run === undefined) {
        out.push(`(d) key ${key}: the call v${c.version} settled with a foreign outcome`);
        continue;
      }
      if (run.startTick < c.tick || run.version < c.version) {
        out.push(
          `(d) key ${key}: the call v${c.version} (t=${c.time}) settled with run #${run.id}, ` +
            `which started at t=${run.start} and pushed v${run.version}`,
        );
      }
      const first = runs.find((r) => r.startTick > c.tick);
      if (first !== run) {
        out.push(
          `(d) key ${key}: v${c.version} settled with #${run.id}, not the first run after it`,
        );
      }
      if (o.ok !== run.ok || o.time < (run.end ?? Infinity)) {
        out.push(`(d) key ${key}: v${c.version} did not settle with the outcome of run #${run.id}`);
      }
    }
  }
  return out;
}

function assertContract(trace: Trace, options?: Parameters<typeof contractViolations>[1]) {
  const violations = contractViolations(trace, options);
  if (violations.length > 0) throw new Error(violations.slice(0, 5).join('\n'));
}

const scenarioArb = (maxFailures = 0): fc.Arbitrary<Scenario> =>
  fc.record({
    calls: fc.array(
      fc.record({
        // Bursts (gap 0 and small gaps) as well as idle stretches.
        gap: fc.oneof(
          fc.constant(0),
          fc.integer({ min: 0, max: 5 }),
          fc.integer({ min: 0, max: 60 }),
        ),
        key: fc.constantFrom<Key>('a', 'b'),
      }),
      { minLength: 1, maxLength: 40, size: 'medium' },
    ),
    durations: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 8 }),
    failures: fc.array(fc.integer({ min: 0, max: maxFailures }), { maxLength: maxFailures && 8 }),
  });

const contract = (makeGroup: () => WriteGroupLike) =>
  fc.asyncProperty(scenarioArb(), async (scenario) => {
    assertContract(await simulate(makeGroup(), scenario));
  });

describe('WriteGroup model (randomized, virtual time)', () => {
  it(`keeps the contract over ${TRIALS} random schedules`, async () => {
    await fc.assert(
      contract(() => new WriteGroup()),
      { seed: SEED, numRuns: TRIALS },
    );
  });

  it('NEGATIVE CONTROL: the same check fails the naive design (stale final state / overlap)', async () => {
    const result = await fc.check(
      contract(() => new NaiveWriteGroup()),
      { seed: SEED, numRuns: TRIALS },
    );
    expect(result.failed).toBe(true);
    const [scenario] = result.counterexample!;
    // Shrunk to a handful of calls on one key.
    expect(scenario.calls.length).toBeLessThanOrEqual(4);
    expect(String(result.errorInstance)).toMatch(/\((a|b|d)\)/);
    // The counterexample really breaks the naive design and really passes with WriteGroup.
    expect(contractViolations(await simulate(new NaiveWriteGroup(), scenario))).not.toEqual([]);
    expect(contractViolations(await simulate(new WriteGroup(), scenario))).toEqual([]);
  });

  it('NEGATIVE CONTROL, by hand: the naive design pushes a stale state, and overlaps', async () => {
    const schedule = (...gaps: number[]): Scenario => ({
      calls: gaps.map((gap) => ({ gap, key: 'a' })),
      durations: [10],
      failures: [],
    });
    // Three calls at once: the shared run uses the first waiter's fn (v2), so v3 is never pushed.
    const burst = schedule(0, 0, 0);
    const stale = await simulate(new NaiveWriteGroup(), burst);
    expect(stale.pushed.get('a')).toBe(2);
    expect(contractViolations(stale)).toContain(
      '(b) key a: the last run pushed v2, the newest event is v3',
    );
    // A call during the shared run (t=10..20) finds no wait entry and runs at once, concurrently.
    const late = schedule(0, 0, 15);
    expect(contractViolations(await simulate(new NaiveWriteGroup(), late))).toContain(
      '(a) a try of key a started at t=15 while another ran',
    );
    // WriteGroup keeps the contract on both.
    for (const scenario of [burst, late]) {
      expect(contractViolations(await simulate(new WriteGroup(), scenario))).toEqual([]);
    }
  });

  it('merge folds exactly the args of the calls each run serves', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(), async (scenario) => {
        assertContract(await simulate(new WriteGroup(), scenario, 'merge'), { mode: 'merge' });
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it('with retry, transient failures never leave a stale final state', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(2), async (scenario) => {
        const writes = new WriteGroup({ retry: { attempts: 3 } });
        const trace = await simulate(writes, scenario);
        assertContract(trace);
        expect(writes.stats()).toMatchObject({ failures: 0, runs: trace.runs.length, size: 0 });
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });

  it('without retry, a failed run rejects only its callers and the next run still happens', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(1), async (scenario) => {
        const writes = new WriteGroup();
        const trace = await simulate(writes, scenario);
        assertContract(trace, { allSucceed: false });
        const failed = trace.runs.filter((r) => !r.ok).length;
        expect(writes.stats()).toMatchObject({
          calls: trace.calls.length,
          runs: trace.runs.length,
          // A call either starts a run (idle key, or the first during a run) or joins the pending one.
          coalesced: trace.calls.length - trace.runs.length,
          failures: failed,
          size: 0,
        });
      }),
      { seed: SEED + 3, numRuns: 300 },
    );
  });
});
