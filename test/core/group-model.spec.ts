import { describe, it, expect, jest, beforeEach, afterEach } from '@jest/globals';
import fc from 'fast-check';
import { Group, SingleflightAbortError, SingleflightTimeoutError } from '../../lib/index.js';
import { deferred, flushMicrotasks, track, type Deferred } from '../support/deferred.js';

type Mode = 'ok' | 'fail' | 'throw' | 'timeoutOne' | 'timeoutAll' | 'abortAll' | 'forget';

// Cheap outcomes more often than the costly ones (timers, AbortSignal events), to stay fast.
const CYCLE: readonly Mode[] = [
  ...(['ok', 'fail', 'ok', 'throw', 'ok', 'forget', 'ok', 'fail'] as const),
  ...(['ok', 'timeoutOne', 'ok', 'fail', 'throw', 'timeoutAll', 'ok', 'abortAll'] as const),
];

describe('Group: no key is ever stuck', () => {
  it('leaves size 0 after 100k settled flights of success, failure, throws, timeouts, aborts, forgets', async () => {
    const group = new Group();
    const FLIGHTS = 100_000;
    const BATCH = 5_000;
    const never = new Promise<never>(() => {});
    const hang = (signal: AbortSignal) =>
      new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
    const expected = {
      calls: 0,
      flights: 0,
      joins: 0,
      errors: 0,
      timeouts: 0,
      aborts: 0,
      forgets: 0,
    };
    const settled = { fulfilled: 0, rejected: 0 };
    const wanted = { fulfilled: 0, rejected: 0 };
    // Stack traces for 100k errors would dominate the run time; none is read here.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (let slot = 0; expected.flights < FLIGHTS;) {
        const gate = deferred<string>();
        const outcomes: Promise<void>[] = [];
        // Handlers are attached at once: a rejection must never wait for a later tick.
        const watch = (call: Promise<unknown>) =>
          outcomes.push(
            call.then(
              () => void settled.fulfilled++,
              () => void settled.rejected++,
            ),
          );
        const controllers: AbortController[] = [];
        for (const end = slot + BATCH; slot < end; slot++) {
          const key = `k${slot}`;
          const mode = CYCLE[slot % CYCLE.length]!;
          expected.calls += 2;
          expected.flights++;
          expected.joins++;
          switch (mode) {
            case 'ok':
              watch(group.do(key, () => 'v'));
              watch(group.do(key, () => 'v'));
              wanted.fulfilled += 2;
              break;
            case 'fail':
              watch(group.do(key, () => Promise.reject(new Error('x'))));
              watch(group.do(key, () => 'unused'));
              expected.errors++;
              wanted.rejected += 2;
              break;
            case 'throw':
              watch(
                group.do(key, () => {
                  throw new Error('sync');
                }),
              );
              watch(group.do(key, () => 'again')); // the key is free at once: a new flight
              expected.flights++;
              expected.joins--;
              expected.errors++;
              wanted.rejected++;
              wanted.fulfilled++;
              break;
            case 'timeoutOne': // one caller times out, the other gets the value later
              watch(group.do(key, () => gate.promise, { timeout: 1 }));
              watch(group.do(key, () => gate.promise));
              expected.timeouts++;
              wanted.rejected++;
              wanted.fulfilled++;
              break;
            case 'timeoutAll': // every caller times out: the work is abandoned
              watch(group.do(key, hang, { timeout: 1 }));
              watch(group.do(key, hang, { timeout: 1 }));
              expected.timeouts += 2;
              wanted.rejected += 2;
              break;
            case 'abortAll': {
              // every caller aborts, with work that ignores its signal
              const controller = new AbortController();
              controllers.push(controller);
              watch(group.do(key, () => never, { signal: controller.signal }));
              watch(group.doResult(key, () => never, { signal: controller.signal }));
              expected.aborts += 2;
              wanted.rejected++;
              wanted.fulfilled++; // doResult never rejects
              break;
            }
            case 'forget': // forgotten mid-flight, then a second flight
              watch(group.do(key, () => gate.promise));
              group.forget(key);
              watch(group.do(key, () => gate.promise));
              expected.flights++;
              expected.joins--;
              expected.forgets++;
              wanted.fulfilled += 2;
              break;
          }
        }
        // A string reason: a default DOMException costs more than the rest of the flight.
        for (const controller of controllers) controller.abort('stop');
        // Real timers: every 1 ms timeout above is due before this 2 ms one.
        await new Promise((resolve) => setTimeout(resolve, 2));
        gate.resolve('late');
        await Promise.all(outcomes);
        expect(group.stats().size).toBe(0);
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }

    expect(settled).toEqual(wanted);
    expect(group.stats()).toEqual({ ...expected, size: 0 });
    expect(expected.flights).toBeGreaterThanOrEqual(FLIGHTS);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Model-based property test: random schedules of calls, settles, forgets, aborts and time.
// ---------------------------------------------------------------------------------------------

const KEYS = ['a', 'b', 'c'] as const;

type Command =
  | { kind: 'call'; key: number; timeout: number | undefined; abortable: boolean }
  | { kind: 'settle'; pick: number; ok: boolean }
  | { kind: 'forget'; key: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'advance'; ms: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      key: fc.nat(KEYS.length - 1),
      timeout: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      abortable: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      ok: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('forget' as const), key: fc.nat(KEYS.length - 1) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 20 }),
    }),
  },
);

interface Run {
  id: number;
  key: string;
  gate: Deferred<string>;
  signal: AbortSignal;
  startedAt: number;
  callers: Caller[];
  /** The work's promise was settled by the test. */
  gateSettled: boolean;
  /** The flight delivered an outcome to its callers. */
  delivered: boolean;
  forgotten: boolean;
  /** Every caller left before the outcome: the work's signal must be aborted. */
  abandoned: boolean;
  error: Error | undefined;
}

type Expected =
  | { status: 'pending' }
  | { status: 'value'; value: string }
  | { status: 'error'; error: Error }
  | { status: 'timeout' }
  | { status: 'abort' };

interface Caller {
  run: Run;
  deadline: number | undefined;
  controller: AbortController | undefined;
  expected: Expected;
  observed: ReturnType<typeof track<string>>;
}

async function runSchedule(commands: Command[], forgetAfter: number | undefined): Promise<void> {
  const group = new Group(forgetAfter === undefined ? {} : { forgetAfter });
  const runs: Run[] = [];
  const callers: Caller[] = [];
  /** Mirror of the group's key -> flight map. */
  const mapped = new Map<string, Run>();
  const counts = { calls: 0, flights: 0, joins: 0, errors: 0, timeouts: 0, aborts: 0, forgets: 0 };
  let started: Run | undefined;

  const joinable = (run: Run) =>
    forgetAfter === undefined || performance.now() < run.startedAt + forgetAfter;

  const makeWork = (key: string) => (signal: AbortSignal) => {
    const run: Run = {
      id: runs.length,
      key,
      gate: deferred<string>(),
      signal,
      startedAt: performance.now(),
      callers: [],
      gateSettled: false,
      delivered: false,
      forgotten: false,
      abandoned: false,
      error: undefined,
    };
    runs.push(run);
    started = run;
    return run.gate.promise;
  };

  const leave = (caller: Caller, why: 'timeout' | 'abort') => {
    caller.expected = { status: why };
    counts[why === 'timeout' ? 'timeouts' : 'aborts']++;
    const run = caller.run;
    if (run.delivered || run.abandoned) return;
    if (run.callers.every((c) => c.expected.status !== 'pending')) {
      run.abandoned = true;
      if (mapped.get(run.key) === run) mapped.delete(run.key);
    }
  };

  const check = () => {
    for (const caller of callers) {
      const { state } = caller.observed;
      const expected = caller.expected;
      switch (expected.status) {
        case 'pending':
          expect(state.status).toBe('pending');
          break;
        case 'value':
          expect(state).toEqual({ status: 'fulfilled', value: expected.value });
          break;
        case 'error':
          expect(state.status).toBe('rejected');
          expect((state as { reason: unknown }).reason).toBe(expected.error);
          break;
        case 'timeout':
          expect(state.status).toBe('rejected');
          expect((state as { reason: unknown }).reason).toBeInstanceOf(SingleflightTimeoutError);
          break;
        case 'abort':
          expect(state.status).toBe('rejected');
          expect((state as { reason: unknown }).reason).toBeInstanceOf(SingleflightAbortError);
          break;
      }
    }
    for (const run of runs) expect(run.signal.aborted).toBe(run.abandoned);
    expect(group.stats().size).toBe(mapped.size);
  };

  const settle = (run: Run, ok: boolean) => {
    run.gateSettled = true;
    if (ok) run.gate.resolve(`value-${run.id}`);
    else run.gate.reject((run.error = new Error(`error-${run.id}`)));
    if (run.abandoned) return; // nobody waits; the key was freed already
    run.delivered = true;
    if (!ok) counts.errors++;
    for (const caller of run.callers) {
      if (caller.expected.status !== 'pending') continue;
      caller.expected = ok
        ? { status: 'value', value: `value-${run.id}` }
        : { status: 'error', error: run.error! };
    }
    if (mapped.get(run.key) === run) mapped.delete(run.key);
  };

  for (const command of commands) {
    switch (command.kind) {
      case 'call': {
        const key = KEYS[command.key]!;
        const existing = mapped.get(key);
        const joins = existing !== undefined && joinable(existing);
        const controller = command.abortable ? new AbortController() : undefined;
        const options =
          command.timeout === undefined && controller === undefined
            ? undefined
            : { timeout: command.timeout, signal: controller?.signal };
        started = undefined;
        const promise = group.do(key, makeWork(key), options);
        counts.calls++;
        let run: Run;
        if (joins) {
          expect(started).toBeUndefined(); // joined: the work did not run again
          run = existing;
          counts.joins++;
        } else {
          expect(started).toBeDefined(); // nothing joinable: the work ran
          run = started!;
          counts.flights++;
          // At most one live flight per key, unless forget() or forgetAfter let a new one in.
          for (const other of runs) {
            if (other === run || other.key !== key || other.delivered || other.abandoned) continue;
            expect(other.forgotten || !joinable(other)).toBe(true);
          }
          mapped.set(key, run);
        }
        const caller: Caller = {
          run,
          deadline: command.timeout === undefined ? undefined : performance.now() + command.timeout,
          controller,
          expected: { status: 'pending' },
          observed: track(promise),
        };
        run.callers.push(caller);
        callers.push(caller);
        break;
      }
      case 'settle': {
        const open = runs.filter((run) => !run.gateSettled);
        if (open.length === 0) break;
        settle(open[command.pick % open.length]!, command.ok);
        break;
      }
      case 'forget': {
        const key = KEYS[command.key]!;
        const run = mapped.get(key);
        if (run !== undefined) {
          run.forgotten = true;
          mapped.delete(key);
          counts.forgets++;
        }
        group.forget(key);
        break;
      }
      case 'abort': {
        const abortable = callers.filter((c) => c.controller && !c.controller.signal.aborted);
        if (abortable.length === 0) break;
        const caller = abortable[command.pick % abortable.length]!;
        if (caller.expected.status === 'pending') leave(caller, 'abort');
        caller.controller!.abort();
        break;
      }
      case 'advance': {
        const now = performance.now() + command.ms;
        const due = callers
          .filter(
            (c) => c.expected.status === 'pending' && c.deadline !== undefined && c.deadline <= now,
          )
          .sort((x, y) => x.deadline! - y.deadline!);
        for (const caller of due) leave(caller, 'timeout');
        await jest.advanceTimersByTimeAsync(command.ms);
        break;
      }
    }
    await flushMicrotasks();
    check();
  }

  // Let every remaining work finish: every caller must settle and every key must be freed.
  for (const run of runs) if (!run.gateSettled) settle(run, true);
  await flushMicrotasks();
  check();
  for (const caller of callers) expect(caller.expected.status).not.toBe('pending');
  expect(group.stats()).toEqual({ ...counts, size: 0 });
  await jest.advanceTimersByTimeAsync(100);
  expect(jest.getTimerCount()).toBe(0);
}

describe('Group: model-based property', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('matches the model for random schedules of calls, settles, forgets, aborts and timeouts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { maxLength: 40 }), (commands) =>
        runSchedule(commands, undefined),
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('matches the model with forgetAfter too', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 25 }),
        fc.array(commandArb, { maxLength: 40 }),
        (forgetAfter, commands) => runSchedule(commands, forgetAfter),
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
