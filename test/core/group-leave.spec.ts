import { describe, it, expect, jest, beforeEach, afterEach } from '@jest/globals';
import { getMaxListeners } from 'node:events';
import { Group, SingleflightAbortError, SingleflightTimeoutError } from '../../lib/core/index.js';
import { QUIET_SHARED_BY } from '../../lib/core/quiet-signal.js';
import {
  controlledWork,
  deferred,
  flushMicrotasks,
  rejectionOf,
  track,
} from '../support/deferred.js';

describe('Group: the signal of work that no caller can abandon', () => {
  // A leader without timeout or signal waits to the end, so its flight is never abandoned.

  it('is given even to work that declares no parameter, and never aborts', async () => {
    const group = new Group();
    const gate = deferred<string>();
    let given: unknown;
    const leader = group.do('k', (...args: unknown[]) => {
      given = args[0];
      return gate.promise;
    });
    const controller = new AbortController();
    const joiner = group.do('k', () => 'unused', { signal: controller.signal });
    controller.abort();
    await expect(joiner).rejects.toBeInstanceOf(SingleflightAbortError);
    expect(given).toBeInstanceOf(AbortSignal);
    expect((given as AbortSignal).aborted).toBe(false);
    gate.resolve('v');
    await expect(leader).resolves.toBe('v');
  });

  it(`is shared by at most ${QUIET_SHARED_BY} flights, then let go for a new one`, async () => {
    const group = new Group();
    const uses = new Map<AbortSignal, number>();
    const flights = 2 * QUIET_SHARED_BY + 10;
    const calls = Array.from({ length: flights }, (_, i) =>
      group.do(`k${i}`, (signal) => {
        uses.set(signal, (uses.get(signal) ?? 0) + 1);
        return i;
      }),
    );
    await Promise.all(calls);
    expect(uses.size).toBe(3);
    expect(Math.max(...uses.values())).toBeLessThanOrEqual(QUIET_SHARED_BY);
    expect([...uses.keys()].some((signal) => signal.aborted)).toBe(false);
  });

  it('allows a listener from each flight that shares it (no MaxListenersExceededWarning)', async () => {
    // Node warns past getMaxListeners(signal) listeners (10 by default); a fetch adds one.
    const group = new Group();
    const signals = new Set<AbortSignal>();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        group.do(`k${i}`, (signal) => {
          signal.addEventListener('abort', () => undefined);
          signals.add(signal);
        }),
      ),
    );
    expect(signals.size).toBe(1);
    expect(getMaxListeners([...signals][0]!)).toBe(QUIET_SHARED_BY);
  });

  it('is not the signal of a flight whose leader can leave: that one aborts on its own', async () => {
    const group = new Group();
    const quiet = controlledWork<string>();
    const own = controlledWork<string>();
    const plain = group.do('a', quiet.work);
    const controller = new AbortController();
    const leaving = group.do('b', own.work, { signal: controller.signal });
    controller.abort();
    await expect(leaving).rejects.toBeInstanceOf(SingleflightAbortError);
    expect(own.signals[0]!.aborted).toBe(true);
    expect(quiet.signals[0]!.aborted).toBe(false);
    quiet.gate.resolve('v');
    await expect(plain).resolves.toBe('v');
  });
});

describe('Group: per-caller timeout', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('rejects only the caller whose timeout ran out; the others get the value', async () => {
    const group = new Group();
    const { gate, signals, work } = controlledWork<string>();
    const short = track(group.do('user:1', work, { timeout: 100 }));
    const plain = track(group.do('user:1', work));
    const long = track(group.do('user:1', work, { timeout: 1000 }));

    await jest.advanceTimersByTimeAsync(99);
    expect(short.state.status).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(short.state.status).toBe('rejected');
    const error = (short.state as { reason: unknown }).reason as SingleflightTimeoutError;
    expect(error).toBeInstanceOf(SingleflightTimeoutError);
    expect(error.name).toBe('SingleflightTimeoutError');
    expect(error.key).toBe('user:1');
    expect(error.timeout).toBe(100);
    expect(error.message).toContain('"user:1"');
    expect(error.message).toContain('100 ms');
    expect(error.message).toContain('raise `timeout`');
    expect(signals[0]!.aborted).toBe(false);
    expect(plain.state.status).toBe('pending');
    expect(long.state.status).toBe('pending');

    gate.resolve('ada');
    await flushMicrotasks();
    expect(plain.state).toEqual({ status: 'fulfilled', value: 'ada' });
    expect(long.state).toEqual({ status: 'fulfilled', value: 'ada' });
    expect(group.stats()).toMatchObject({ calls: 3, flights: 1, joins: 2, timeouts: 1, size: 0 });
    expect(jest.getTimerCount()).toBe(0); // the long caller's timer was cleared
  });

  it('lets the leader time out while joiners still get the value', async () => {
    const group = new Group();
    const { gate, signals, work } = controlledWork<string>();
    const leader = rejectionOf(group.do('k', work, { timeout: 10 }));
    const joiner = group.do('k', work);
    await jest.advanceTimersByTimeAsync(10);
    expect(await leader).toBeInstanceOf(SingleflightTimeoutError);
    expect(signals[0]!.aborted).toBe(false);
    expect(group.stats().size).toBe(1);
    gate.resolve('v');
    await expect(joiner).resolves.toBe('v');
  });

  it('gives a caller the flight’s outcome (value or error) when it comes before the timeout', async () => {
    const group = new Group();
    await expect(group.do('a', async () => 'fast', { timeout: 50 })).resolves.toBe('fast');
    const boom = new Error('boom');
    expect(
      await rejectionOf(group.do('b', async () => Promise.reject(boom), { timeout: 50 })),
    ).toBe(boom);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(100);
    expect(group.stats()).toMatchObject({ timeouts: 0, errors: 1 });
  });

  it('when every caller has left, aborts the work’s signal and frees the key at once', async () => {
    const group = new Group();
    const first = controlledWork<string>();
    const callers = [10, 20, 30].map((timeout) => track(group.do('k', first.work, { timeout })));
    await jest.advanceTimersByTimeAsync(20);
    expect(first.signals[0]!.aborted).toBe(false);
    expect(group.stats().size).toBe(1);

    await jest.advanceTimersByTimeAsync(10);
    for (const caller of callers) expect(caller.state.status).toBe('rejected');
    const signal = first.signals[0]!;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(SingleflightAbortError);
    expect((signal.reason as Error).message).toContain('"k"');
    expect((signal.reason as Error).message).toContain('left');
    expect(group.stats()).toMatchObject({ timeouts: 3, size: 0 });

    // A new caller starts a new flight: it does not join the dead one.
    const second = controlledWork<string>();
    const fresh = group.do('k', second.work);
    expect(first.runs).toBe(1);
    expect(second.runs).toBe(1);
    expect(second.signals[0]!.aborted).toBe(false);

    // The dead flight settling later neither reaches anyone nor frees the new flight.
    first.gate.resolve('stale');
    await flushMicrotasks();
    expect(group.stats().size).toBe(1);
    expect(group.do('k', second.work)).toBe(fresh);
    second.gate.resolve('fresh');
    await expect(fresh).resolves.toBe('fresh');
    expect(group.stats()).toMatchObject({ flights: 2, size: 0 });
  });

  it('frees the key when every caller has left, even for work that ignores the signal', async () => {
    const group = new Group();
    const gate = deferred<string>();
    let runs = 0;
    const work = () => (runs++, gate.promise);
    const a = rejectionOf(group.do('k', work, { timeout: 5 }));
    const b = rejectionOf(group.do('k', work, { timeout: 5 }));
    await jest.advanceTimersByTimeAsync(5);
    expect(await a).toBeInstanceOf(SingleflightTimeoutError);
    expect(await b).toBeInstanceOf(SingleflightTimeoutError);
    expect(group.stats().size).toBe(0);
    const c = group.do('k', async () => (runs++, 'new'));
    expect(runs).toBe(2);
    await expect(c).resolves.toBe('new');
    gate.resolve('late'); // settles nobody, frees nothing
    await flushMicrotasks();
  });

  it('keeps the flight alive while a caller without timeout still waits', async () => {
    const group = new Group();
    const { gate, signals, work } = controlledWork<string>();
    const a = rejectionOf(group.do('k', work, { timeout: 5 }));
    const plain = group.do('k', work);
    await jest.advanceTimersByTimeAsync(1000);
    expect(await a).toBeInstanceOf(SingleflightTimeoutError);
    expect(signals[0]!.aborted).toBe(false);
    expect(group.stats().size).toBe(1);
    gate.resolve('v');
    await expect(plain).resolves.toBe('v');
  });

  it('does not count the abandoned work’s rejection as a flight error', async () => {
    const group = new Group();
    const work = (signal: AbortSignal) =>
      new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
    const a = rejectionOf(group.do('k', work, { timeout: 5 }));
    await jest.advanceTimersByTimeAsync(5);
    expect(await a).toBeInstanceOf(SingleflightTimeoutError);
    await flushMicrotasks();
    expect(group.stats()).toMatchObject({ errors: 0, timeouts: 1, size: 0 });
  });
});

describe('Group: per-caller AbortSignal', () => {
  it('rejects only the aborted caller with SingleflightAbortError (name AbortError, cause = reason)', async () => {
    const group = new Group();
    const { gate, signals, work } = controlledWork<string>();
    const controller = new AbortController();
    const aborted = group.do('k', work, { signal: controller.signal });
    const other = group.do('k', work);
    const reason = new Error('client went away');
    controller.abort(reason);
    const error = (await rejectionOf(aborted)) as SingleflightAbortError;
    expect(error).toBeInstanceOf(SingleflightAbortError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    expect(error.key).toBe('k');
    expect(error.message).toContain('"k"');
    expect(signals[0]!.aborted).toBe(false);
    gate.resolve('v');
    await expect(other).resolves.toBe('v');
    expect(group.stats()).toMatchObject({ aborts: 1, size: 0 });
  });

  it('rejects at once for an already-aborted signal, without running the work', async () => {
    const group = new Group();
    let runs = 0;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const call = track(
        group.do(
          'k',
          (signal) =>
            new Promise<string>((_, reject) => {
              runs++;
              signal.addEventListener('abort', () => reject(signal.reason));
            }),
          { signal: AbortSignal.abort('gone') },
        ),
      );
      await flushMicrotasks();
      expect(call.state.status).toBe('rejected');
      const error = (call.state as { reason: unknown }).reason as SingleflightAbortError;
      expect(error).toBeInstanceOf(SingleflightAbortError);
      expect(error.cause).toBe('gone');
      expect(runs).toBe(0);
      expect(group.stats()).toMatchObject({ calls: 1, flights: 0, aborts: 1, size: 0 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('an already-aborted joiner leaves the flight in progress untouched', async () => {
    const group = new Group();
    const { gate, signals, work } = controlledWork<string>();
    const leader = group.do('k', work);
    await expect(group.do('k', work, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      SingleflightAbortError,
    );
    expect(signals[0]!.aborted).toBe(false);
    expect(group.stats().size).toBe(1);
    gate.resolve('v');
    await expect(leader).resolves.toBe('v');
  });

  it('aborts the work and frees the key when every caller aborted', async () => {
    const group = new Group();
    const { signals, work } = controlledWork<string>();
    const controllers = [new AbortController(), new AbortController()];
    const calls = controllers.map((c) => group.do('k', work, { signal: c.signal }));
    controllers[0]!.abort();
    await expect(calls[0]).rejects.toBeInstanceOf(SingleflightAbortError);
    expect(signals[0]!.aborted).toBe(false);
    controllers[1]!.abort();
    await expect(calls[1]).rejects.toBeInstanceOf(SingleflightAbortError);
    expect(signals[0]!.aborted).toBe(true);
    expect(group.stats()).toMatchObject({ aborts: 2, size: 0 });
  });

  it('ignores an abort that comes after the caller got its value', async () => {
    const group = new Group();
    const controller = new AbortController();
    await expect(group.do('k', async () => 'v', { signal: controller.signal })).resolves.toBe('v');
    controller.abort();
    expect(group.stats().aborts).toBe(0);
  });

  it('one signal shared by several callers of different keys rejects each of them', async () => {
    const group = new Group();
    const controller = new AbortController();
    const a = group.do('a', () => new Promise<never>(() => {}), { signal: controller.signal });
    const b = group.do('b', () => new Promise<never>(() => {}), { signal: controller.signal });
    controller.abort();
    expect(((await rejectionOf(a)) as SingleflightAbortError).key).toBe('a');
    expect(((await rejectionOf(b)) as SingleflightAbortError).key).toBe('b');
    expect(group.stats()).toMatchObject({ aborts: 2, size: 0 });
  });

  describe('with a timeout too', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    it('rejects with whichever comes first, and counts only that one', async () => {
      const group = new Group();
      const { gate, work } = controlledWork<string>();
      const controller = new AbortController();
      const byTimeout = rejectionOf(
        group.do('k', work, { timeout: 10, signal: controller.signal }),
      );
      const keep = group.do('k', work);
      await jest.advanceTimersByTimeAsync(10);
      expect(await byTimeout).toBeInstanceOf(SingleflightTimeoutError);
      controller.abort();

      const controller2 = new AbortController();
      const byAbort = group.do('k', work, { timeout: 10, signal: controller2.signal });
      controller2.abort();
      await expect(byAbort).rejects.toBeInstanceOf(SingleflightAbortError);
      await jest.advanceTimersByTimeAsync(50);
      expect(group.stats()).toMatchObject({ timeouts: 1, aborts: 1 });
      gate.resolve('v');
      await expect(keep).resolves.toBe('v');
    });
  });
});

describe('Group: forgetAfter', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs on the faked clock (performance.now is faked by modern fake timers)', async () => {
    const before = performance.now();
    await jest.advanceTimersByTimeAsync(250);
    expect(performance.now() - before).toBe(250);
  });

  it('stops a flight older than forgetAfter from taking joiners; each flight keeps its callers', async () => {
    const group = new Group({ forgetAfter: 100 });
    const first = controlledWork<string>();
    const second = controlledWork<string>();
    const p1 = group.do('k', first.work);
    await jest.advanceTimersByTimeAsync(99);
    const p2 = group.do('k', first.work);
    expect(p2).toBe(p1); // still young: joins
    await jest.advanceTimersByTimeAsync(1);
    const p3 = group.do('k', second.work); // 100 ms old: a new flight
    expect(p3).not.toBe(p1);
    expect(first.runs).toBe(1);
    expect(second.runs).toBe(1);
    const p4 = group.do('k', second.work);
    expect(p4).toBe(p3);

    first.gate.resolve('old');
    await expect(Promise.all([p1, p2])).resolves.toEqual(['old', 'old']);
    expect(group.stats().size).toBe(1); // the old flight left the new one in place
    const p5 = group.do('k', second.work);
    expect(p5).toBe(p3);
    expect(second.runs).toBe(1);

    second.gate.resolve('new');
    await expect(Promise.all([p3, p4, p5])).resolves.toEqual(['new', 'new', 'new']);
    expect(group.stats()).toMatchObject({ flights: 2, joins: 3, forgets: 0, size: 0 });
  });

  it('lets an expired flight that is not replaced free its key when it settles', async () => {
    const group = new Group({ forgetAfter: 10 });
    const gate = deferred<string>();
    const p = group.do('k', () => gate.promise);
    await jest.advanceTimersByTimeAsync(50);
    expect(group.stats().size).toBe(1);
    gate.resolve('v');
    await expect(p).resolves.toBe('v');
    expect(group.stats().size).toBe(0);
  });

  it('with forgetAfter: 0, never lets a caller join', async () => {
    const group = new Group({ forgetAfter: 0 });
    let runs = 0;
    const gate = deferred();
    const work = async () => {
      await gate.promise;
      return ++runs;
    };
    const calls = [group.do('k', work), group.do('k', work), group.do('k', work)];
    gate.resolve();
    await expect(Promise.all(calls)).resolves.toEqual([1, 2, 3]);
    expect(group.stats()).toMatchObject({ flights: 3, joins: 0, size: 0 });
  });
});

describe('Group: shareErrors: false', () => {
  it('lets the joiners of a failed flight share ONE new flight; the leader gets the error', async () => {
    const group = new Group({ shareErrors: false });
    const first = deferred<string>();
    const second = deferred<string>();
    let runs = 0;
    const work = () => (++runs === 1 ? first.promise : second.promise);
    const leader = group.do('k', work);
    const joiners = Array.from({ length: 50 }, () => group.do('k', work));
    const boom = new Error('first run failed');
    first.reject(boom);
    expect(await rejectionOf(leader)).toBe(boom);
    await flushMicrotasks();
    expect(runs).toBe(2);
    second.resolve('ok');
    const values = await Promise.all(joiners);
    expect(values).toEqual(Array(50).fill('ok'));
    expect(runs).toBe(2);
    expect(group.stats()).toMatchObject({ flights: 2, errors: 1, size: 0 });
  });

  it('makes the error of the second flight final (no third run)', async () => {
    const group = new Group({ shareErrors: false });
    let runs = 0;
    const errors = [new Error('first'), new Error('second'), new Error('third')];
    const gate = deferred();
    const work = async () => {
      const error = errors[runs++]!;
      await gate.promise;
      throw error;
    };
    const leader = group.do('k', work);
    const joiners = Array.from({ length: 10 }, () => group.do('k', work));
    gate.resolve();
    expect(await rejectionOf(leader)).toBe(errors[0]);
    for (const joiner of joiners) expect(await rejectionOf(joiner)).toBe(errors[1]);
    expect(runs).toBe(2);
    expect(group.stats()).toMatchObject({ flights: 2, errors: 2, size: 0 });
  });

  it('counts each caller once in stats().calls: the second run is no call of its own', async () => {
    const group = new Group({ shareErrors: false });
    const first = deferred<string>();
    let runs = 0;
    const work = () => (++runs === 1 ? first.promise : Promise.resolve('ok'));
    const calls = Array.from({ length: 4 }, () => group.do('k', work).catch(() => 'failed'));
    first.reject(new Error('first run failed'));
    await expect(Promise.all(calls)).resolves.toEqual(['failed', 'ok', 'ok', 'ok']);
    expect(group.stats()).toMatchObject({ calls: 4, flights: 2, joins: 3, errors: 1, size: 0 });
  });

  it('counts the second run as no call when it joins a flight a newcomer started', async () => {
    const group = new Group({ shareErrors: false });
    const first = deferred<string>();
    const fresh = deferred<string>();
    const leader = group.do('k', () => first.promise);
    const joiner = group.do('k', () => Promise.resolve('joiner'));
    // The newcomer comes once the first flight failed and freed the key, before the joiner's
    // second run starts: that run then joins the newcomer's flight.
    let newcomer!: Promise<string>;
    first.promise.catch(() => (newcomer = group.do('k', () => fresh.promise)));
    first.reject(new Error('first run failed'));
    await rejectionOf(leader);
    fresh.resolve('fresh');
    await expect(Promise.all([joiner, newcomer])).resolves.toEqual(['fresh', 'fresh']);
    expect(group.stats()).toMatchObject({ calls: 3, flights: 2, joins: 2, size: 0 });
  });

  it('shares a success like the default', async () => {
    const group = new Group({ shareErrors: false });
    const gate = deferred<string>();
    let runs = 0;
    const work = () => (runs++, gate.promise);
    const calls = Array.from({ length: 5 }, () => group.do('k', work));
    gate.resolve('v');
    await expect(Promise.all(calls)).resolves.toEqual(Array(5).fill('v'));
    expect(runs).toBe(1);
  });

  it('retries for doResult joiners too', async () => {
    const group = new Group({ shareErrors: false });
    let runs = 0;
    const gate = deferred();
    const work = async () => {
      await gate.promise;
      if (++runs === 1) throw new Error('first');
      return 'second';
    };
    const leader = group.doResult('k', work);
    const joiners = [group.doResult('k', work), group.doResult('k', work)];
    gate.resolve();
    expect((await leader).error).toEqual(new Error('first'));
    for (const joiner of await Promise.all(joiners)) {
      expect(joiner).toEqual({ value: 'second', error: undefined, shared: true });
    }
    expect(runs).toBe(2);
  });

  it('treats a leader whose work joined another key as the leader (runs its work once)', async () => {
    const group = new Group({ shareErrors: false });
    const other = deferred<string>();
    const otherFlight = group.do('other', () => other.promise);
    let runs = 0;
    const leader = group.do('k', () => {
      runs++;
      void group.do('other', () => other.promise); // joins `other` from inside the work
      return runs === 1 ? Promise.reject(new Error('k failed')) : Promise.resolve('retried');
    });
    await expect(leader).rejects.toThrow('k failed');
    expect(runs).toBe(1);
    other.resolve('o');
    await expect(otherFlight).resolves.toBe('o');
  });

  describe('with timeouts', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    it('aborts the second flight and frees the key when every joiner waiting on it left', async () => {
      const group = new Group({ shareErrors: false });
      const first = deferred<string>();
      const signals: AbortSignal[] = [];
      const work = (signal: AbortSignal) => {
        signals.push(signal);
        return signals.length === 1 ? first.promise : new Promise<string>(() => {}); // hangs
      };
      const leader = group.do('k', work);
      const joiners = [
        track(group.do('k', work, { timeout: 100 })),
        track(group.do('k', work, { timeout: 200 })),
      ];
      first.reject(new Error('first'));
      await expect(leader).rejects.toThrow('first');
      await flushMicrotasks();
      expect(signals).toHaveLength(2);
      expect(group.stats().size).toBe(1);

      await jest.advanceTimersByTimeAsync(100);
      expect(joiners[0]!.state).toMatchObject({ reason: expect.any(SingleflightTimeoutError) });
      expect(signals[1]!.aborted).toBe(false); // one joiner still waits on it

      await jest.advanceTimersByTimeAsync(100);
      expect(joiners[1]!.state).toMatchObject({ reason: expect.any(SingleflightTimeoutError) });
      expect(signals[1]!.aborted).toBe(true);
      expect(group.stats().size).toBe(0);
    });

    it('does not start the second flight when every joiner left before the first failed', async () => {
      const group = new Group({ shareErrors: false });
      const first = deferred<string>();
      let runs = 0;
      const work = () => (runs++, first.promise);
      const leader = group.do('k', work);
      const joiner = rejectionOf(group.do('k', work, { timeout: 10 }));
      await jest.advanceTimersByTimeAsync(10);
      expect(await joiner).toBeInstanceOf(SingleflightTimeoutError);
      first.reject(new Error('first'));
      await expect(leader).rejects.toThrow('first');
      await flushMicrotasks();
      expect(runs).toBe(1);
      expect(group.stats().size).toBe(0);
    });
  });
});

describe('Group: per-call forgetAfter and shareErrors', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('applies a call’s forgetAfter to the flight that call starts', async () => {
    const group = new Group();
    const first = controlledWork<string>();
    const second = controlledWork<string>();
    const p1 = group.do('k', first.work, { forgetAfter: 50 });
    await jest.advanceTimersByTimeAsync(49);
    expect(group.do('k', first.work)).toBe(p1);
    await jest.advanceTimersByTimeAsync(1);
    const p2 = group.do('k', second.work);
    expect(p2).not.toBe(p1);
    // The new flight was started without forgetAfter: it takes joiners for as long as it runs.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(group.do('k', second.work)).toBe(p2);
    first.gate.resolve('old');
    second.gate.resolve('new');
    await expect(Promise.all([p1, p2])).resolves.toEqual(['old', 'new']);
    expect(group.stats()).toMatchObject({ flights: 2, size: 0 });
  });

  it('lets a call’s forgetAfter override the group’s', async () => {
    const group = new Group({ forgetAfter: 10 });
    const gate = deferred<string>();
    const p1 = group.do('k', () => gate.promise, { forgetAfter: 1000 });
    await jest.advanceTimersByTimeAsync(500);
    expect(group.do('k', () => gate.promise)).toBe(p1);
    gate.resolve('v');
    await expect(p1).resolves.toBe('v');
  });

  it('lets a joiner ask for shareErrors: false in a group that shares errors', async () => {
    const group = new Group();
    const first = deferred<string>();
    let runs = 0;
    const work = () => (++runs === 1 ? first.promise : Promise.resolve('retried'));
    const leader = rejectionOf(group.do('k', work));
    const sharer = rejectionOf(group.do('k', work));
    const retrier = group.do('k', work, { shareErrors: false });
    const boom = new Error('first');
    first.reject(boom);
    expect(await leader).toBe(boom);
    expect(await sharer).toBe(boom);
    await expect(retrier).resolves.toBe('retried');
    expect(runs).toBe(2);
  });

  it('lets a joiner ask for shareErrors: true in a group that does not', async () => {
    const group = new Group({ shareErrors: false });
    const first = deferred<string>();
    let runs = 0;
    const work = () => (++runs === 1 ? first.promise : Promise.resolve('retried'));
    const leader = rejectionOf(group.do('k', work));
    const sharer = rejectionOf(group.do('k', work, { shareErrors: true }));
    const boom = new Error('first');
    first.reject(boom);
    expect(await leader).toBe(boom);
    expect(await sharer).toBe(boom);
    await flushMicrotasks();
    expect(runs).toBe(1);
  });

  it.each([
    [{ forgetAfter: -1 }, 'finite number of milliseconds >= 0'],
    [{ shareErrors: 'no' }, 'true or false'],
  ])('rejects bad per-call options %j with SingleflightOptionsError', async (options, text) => {
    const group = new Group();
    const error = await rejectionOf(group.do('k', () => 1, options as never));
    expect((error as Error).name).toBe('SingleflightOptionsError');
    expect((error as Error).message).toContain(text);
  });
});
