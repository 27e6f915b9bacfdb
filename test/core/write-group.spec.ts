import { afterEach, describe, it, expect, jest } from '@jest/globals';
import {
  SingleflightArgumentError,
  SingleflightOptionsError,
  SingleflightReentryError,
  SingleflightThrownValueError,
  WriteGroup,
} from '../../lib/index.js';
import { deferred, flushMicrotasks, type Deferred } from '../support/deferred.js';

/** A push whose end the test controls; `started` counts how often the work was entered. */
function controlledPush<T>() {
  const pushes: Deferred<T>[] = [];
  const seen: unknown[][] = [];
  const fn = (...args: unknown[]) => {
    seen.push(args);
    const d = deferred<T>();
    pushes.push(d);
    return d.promise;
  };
  return { fn, pushes, seen };
}

/** Records how a promise settled without letting a rejection go unhandled. */
function outcome<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('WriteGroup', () => {
  describe('an idle key', () => {
    it('runs the work at once, in the same tick', async () => {
      const writes = new WriteGroup();
      const fn = jest.fn(async () => 'pushed');
      const result = writes.do('k', fn);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(writes.stats()).toEqual({
        calls: 1,
        runs: 1,
        coalesced: 0,
        failures: 0,
        retries: 0,
        size: 1,
      });
      await expect(result).resolves.toBe('pushed');
      expect(writes.stats().size).toBe(0);
    });

    it('passes the call args to the work', async () => {
      const writes = new WriteGroup();
      const fn = jest.fn(async (a: number, b: string) => `${a}${b}`);
      await expect(writes.do('k', fn, { args: [1, 'x'] })).resolves.toBe('1x');
      expect(fn).toHaveBeenCalledWith(1, 'x');
    });

    it('accepts a sync function and a plain value', async () => {
      const writes = new WriteGroup();
      await expect(writes.do('k', () => 42)).resolves.toBe(42);
      expect(writes.stats()).toMatchObject({ runs: 1, size: 0 });
    });

    it('runs at once again after the previous run settled and nobody waited', async () => {
      const writes = new WriteGroup();
      await writes.do('k', async () => 1);
      const fn = jest.fn(async () => 2);
      const second = writes.do('k', fn);
      expect(fn).toHaveBeenCalledTimes(1);
      await expect(second).resolves.toBe(2);
      expect(writes.stats()).toMatchObject({ calls: 2, runs: 2, coalesced: 0, size: 0 });
    });
  });

  describe('calls during a run', () => {
    it('100 calls during one run cost exactly one more run, with the newest fn', async () => {
      const writes = new WriteGroup();
      const first = controlledPush<string>();
      const firstCaller = outcome(writes.do('k', first.fn));

      const fns = Array.from({ length: 100 }, (_, i) => jest.fn(async () => `v${i + 1}`));
      const waiting = fns.map((fn) => outcome(writes.do('k', fn)));
      await flushMicrotasks();
      // Nothing new starts while the first run is in flight.
      expect(fns.every((fn) => fn.mock.calls.length === 0)).toBe(true);
      expect(waiting.some((w) => w.settled)).toBe(false);
      expect(writes.stats()).toMatchObject({ calls: 101, runs: 1, coalesced: 99, size: 1 });

      first.pushes[0].resolve('v0');
      await flushMicrotasks();

      // Only the newest call's work ran, once; everybody who waited got its outcome.
      expect(fns.slice(0, 99).every((fn) => fn.mock.calls.length === 0)).toBe(true);
      expect(fns[99]).toHaveBeenCalledTimes(1);
      expect(firstCaller.value).toBe('v0');
      expect(waiting.map((w) => w.value)).toEqual(Array(100).fill('v100'));
      expect(writes.stats()).toEqual({
        calls: 101,
        runs: 2,
        coalesced: 99,
        failures: 0,
        retries: 0,
        size: 0,
      });
    });

    it('the pending run uses the newest call args (latest wins)', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      void writes.do('k', push.fn, { args: [0] });
      const later = [1, 2, 3].map((v) => writes.do('k', push.fn, { args: [v] }));
      push.pushes[0].resolve('first');
      await flushMicrotasks();
      expect(push.seen).toEqual([[0], [3]]);
      push.pushes[1].resolve('second');
      await expect(Promise.all(later)).resolves.toEqual(['second', 'second', 'second']);
    });

    it('starts the pending run only after the current run settles, and before its callers resume', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<number>();
      const order: string[] = [];
      const first = writes
        .do('k', push.fn)
        .then(() => order.push(`first caller resumes, runs=${push.pushes.length}`));
      void writes.do('k', push.fn);
      await flushMicrotasks();
      expect(push.pushes).toHaveLength(1);
      push.pushes[0].resolve(1);
      await first;
      expect(order).toEqual(['first caller resumes, runs=2']);
      push.pushes[1].resolve(2);
      await flushMicrotasks();
      expect(writes.stats().size).toBe(0);
    });

    it('a call made during the pending run waits for a third run', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      const a = outcome(writes.do('k', push.fn, { args: ['a'] }));
      const b = outcome(writes.do('k', push.fn, { args: ['b'] }));
      push.pushes[0].resolve('run a');
      await flushMicrotasks();
      const c = outcome(writes.do('k', push.fn, { args: ['c'] }));
      await flushMicrotasks();
      expect(push.seen).toEqual([['a'], ['b']]);
      push.pushes[1].resolve('run b');
      await flushMicrotasks();
      expect(push.seen).toEqual([['a'], ['b'], ['c']]);
      push.pushes[2].resolve('run c');
      await flushMicrotasks();
      expect([a.value, b.value, c.value]).toEqual(['run a', 'run b', 'run c']);
      expect(writes.stats()).toMatchObject({ calls: 3, runs: 3, coalesced: 0, size: 0 });
    });

    it('merge folds the args of every pending call, in call order, and leaves the running args alone', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      const merge = jest.fn((pending: [number[]], next: [number[]]): [number[]] => [
        [...pending[0], ...next[0]],
      ]);
      void writes.do<string, [number[]]>('k', push.fn, { args: [[0]], merge });
      const waiting = [1, 2, 3, 4].map((v) =>
        writes.do<string, [number[]]>('k', push.fn, { args: [[v]], merge }),
      );
      expect(merge.mock.calls).toEqual([
        [[[1]], [[2]]],
        [[[1, 2]], [[3]]],
        [[[1, 2, 3]], [[4]]],
      ]);
      push.pushes[0].resolve('first');
      await flushMicrotasks();
      expect(push.seen).toEqual([[[0]], [[1, 2, 3, 4]]]);
      push.pushes[1].resolve('merged');
      await expect(Promise.all(waiting)).resolves.toEqual(Array(4).fill('merged'));
      expect(writes.stats()).toMatchObject({ runs: 2, coalesced: 3 });
    });

    it('a merge that throws fails only its own call; the pending run keeps its state', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      const boom = new Error('cannot merge');
      void writes.do('k', push.fn, { args: [0] });
      const ok = writes.do('k', push.fn, { args: [1] });
      let bad: Promise<unknown> | undefined;
      expect(() => {
        bad = writes.do('k', push.fn, {
          args: [2],
          merge: () => {
            throw boom;
          },
        });
      }).not.toThrow();
      await expect(bad).rejects.toBe(boom);
      push.pushes[0].resolve('first');
      await flushMicrotasks();
      expect(push.seen).toEqual([[0], [1]]);
      push.pushes[1].resolve('second');
      await expect(ok).resolves.toBe('second');
      expect(writes.stats()).toMatchObject({ runs: 2, coalesced: 0, size: 0 });
    });
  });

  describe('failures', () => {
    it('a failed run rejects only its own callers, and the pending run still happens', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      const first = outcome(writes.do('k', push.fn));
      const waiting = [outcome(writes.do('k', push.fn)), outcome(writes.do('k', push.fn))];
      const boom = new Error('downstream down');
      push.pushes[0].reject(boom);
      await flushMicrotasks();
      expect(first.error).toBe(boom);
      expect(push.pushes).toHaveLength(2);
      expect(waiting.some((w) => w.settled)).toBe(false);
      push.pushes[1].resolve('recovered');
      await flushMicrotasks();
      expect(waiting.map((w) => w.value)).toEqual(['recovered', 'recovered']);
      expect(writes.stats()).toMatchObject({ runs: 2, failures: 1, size: 0 });
    });

    it('a failed pending run rejects its callers but not the earlier run callers', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      const first = outcome(writes.do('k', push.fn));
      const second = outcome(writes.do('k', push.fn));
      push.pushes[0].resolve('ok');
      await flushMicrotasks();
      const boom = new Error('second failed');
      push.pushes[1].reject(boom);
      await flushMicrotasks();
      expect(first).toMatchObject({ settled: true, value: 'ok' });
      expect(second).toMatchObject({ settled: true, error: boom });
      // The key is free again.
      await expect(writes.do('k', async () => 'again')).resolves.toBe('again');
      expect(writes.stats()).toMatchObject({ runs: 3, failures: 1, size: 0 });
    });

    it('a sync throw in fn is a failed run (a rejected promise, never a throw)', async () => {
      const writes = new WriteGroup();
      const boom = new Error('sync');
      let result: Promise<unknown> | undefined;
      expect(() => {
        result = writes.do('k', () => {
          throw boom;
        });
      }).not.toThrow();
      await expect(result).rejects.toBe(boom);
      expect(writes.stats()).toMatchObject({ runs: 1, failures: 1, size: 0 });
    });

    it('a sync throw in a pending run rejects its callers and frees the key', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      const first = writes.do('k', push.fn);
      const boom = new Error('pending threw');
      const second = writes.do('k', () => {
        throw boom;
      });
      push.pushes[0].resolve('first');
      await expect(first).resolves.toBe('first');
      await expect(second).rejects.toBe(boom);
      expect(writes.stats()).toMatchObject({ runs: 2, failures: 1, size: 0 });
    });

    it('a thrown non-Error becomes a SingleflightThrownValueError with the value as cause', async () => {
      const writes = new WriteGroup();
      const error = await writes
        .do('push:1', () => Promise.reject('just a string'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SingleflightThrownValueError);
      expect((error as Error).cause).toBe('just a string');
      expect((error as Error).message).toContain('push:1');
    });
  });

  describe('retry', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    /** Fails the first `failures` tries, then resolves with the try number; records when each try ran. */
    function flaky(failures: number) {
      const tries: number[] = [];
      const errors: Error[] = [];
      const fn = jest.fn(async () => {
        tries.push(Date.now());
        if (tries.length <= failures) {
          const error = new Error(`transient ${tries.length}`);
          errors.push(error);
          throw error;
        }
        return tries.length;
      });
      return { fn, tries, errors };
    }

    it("ends the retries with the work's own error when the backoff function throws", async () => {
      const { fn, errors } = flaky(5);
      const writes = new WriteGroup();
      const backoffMs = () => {
        throw new Error('bad backoff');
      };
      await expect(writes.do('k', fn, { retry: { attempts: 4, backoffMs } })).rejects.toBe(
        errors[0],
      );
      expect(fn).toHaveBeenCalledTimes(1);
      expect(writes.stats().size).toBe(0);
    });

    it('recovers from 2 transient failures with 3 attempts; numeric backoff doubles', async () => {
      jest.useFakeTimers({ now: 0 });
      const writes = new WriteGroup();
      const { fn, tries } = flaky(2);
      const result = outcome(writes.do('k', fn, { retry: { attempts: 3, backoffMs: 100 } }));
      await flushMicrotasks();
      expect(tries).toEqual([0]);
      await jest.advanceTimersByTimeAsync(99);
      expect(tries).toEqual([0]);
      await jest.advanceTimersByTimeAsync(1);
      expect(tries).toEqual([0, 100]); // waited 100 ms
      await jest.advanceTimersByTimeAsync(199);
      expect(tries).toEqual([0, 100]);
      await jest.advanceTimersByTimeAsync(1);
      expect(tries).toEqual([0, 100, 300]); // waited 200 ms
      expect(result).toMatchObject({ settled: true, value: 3 });
      expect(writes.stats()).toEqual({
        calls: 1,
        runs: 1,
        coalesced: 0,
        failures: 0,
        retries: 2,
        size: 0,
      });
    });

    it('gives up after `attempts` tries with the last error, and the pending run still happens', async () => {
      jest.useFakeTimers({ now: 0 });
      const writes = new WriteGroup({ retry: { attempts: 2, backoffMs: 10 } });
      const { fn, errors } = flaky(Infinity);
      const first = outcome(writes.do('k', fn));
      const next = jest.fn(async () => 'next');
      const pending = outcome(writes.do('k', next));
      await jest.advanceTimersByTimeAsync(9);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(next).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      expect(fn).toHaveBeenCalledTimes(2);
      expect(first).toMatchObject({ settled: true, error: errors[1] });
      expect(next).toHaveBeenCalledTimes(1);
      expect(pending).toMatchObject({ settled: true, value: 'next' });
      expect(writes.stats()).toMatchObject({ runs: 2, failures: 1, retries: 1, size: 0 });
    });

    it('the pending run waits through the backoff; calls made then join it', async () => {
      jest.useFakeTimers({ now: 0 });
      const writes = new WriteGroup({ retry: { attempts: 2, backoffMs: 50 } });
      const { fn } = flaky(1);
      const first = outcome(writes.do('k', fn));
      await flushMicrotasks();
      const next = jest.fn(async (v: number) => `next ${v}`);
      const a = outcome(writes.do('k', next, { args: [1] }));
      await jest.advanceTimersByTimeAsync(25);
      const b = outcome(writes.do('k', next, { args: [2] }));
      expect(next).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(25);
      expect(first).toMatchObject({ settled: true, value: 2 });
      expect(next.mock.calls).toEqual([[2]]);
      expect([a.value, b.value]).toEqual(['next 2', 'next 2']);
    });

    it('a backoff function gets the failed try number and its error', async () => {
      jest.useFakeTimers({ now: 0 });
      const writes = new WriteGroup();
      const { fn, tries, errors } = flaky(3);
      const backoffMs = jest.fn((attempt: number) => attempt * 7);
      const result = outcome(writes.do('k', fn, { retry: { attempts: 4, backoffMs } }));
      await jest.advanceTimersByTimeAsync(1000);
      expect(tries).toEqual([0, 7, 21, 42]);
      expect(backoffMs.mock.calls).toEqual([
        [1, errors[0]],
        [2, errors[1]],
        [3, errors[2]],
      ]);
      expect(result.value).toBe(4);
    });

    it('without backoff, retries at once; per-call retry overrides the group default', async () => {
      const writes = new WriteGroup({ retry: { attempts: 3 } });
      const twice = flaky(2);
      await expect(writes.do('a', twice.fn)).resolves.toBe(3);
      const once = flaky(1);
      await expect(writes.do('b', once.fn, { retry: { attempts: 1 } })).rejects.toBe(
        once.errors[0],
      );
      expect(once.fn).toHaveBeenCalledTimes(1);
      expect(writes.stats()).toMatchObject({ runs: 2, failures: 1, retries: 2, size: 0 });
    });
  });

  describe('keys', () => {
    it('different keys run concurrently', async () => {
      const writes = new WriteGroup();
      const a = controlledPush<string>();
      const b = controlledPush<string>();
      const ra = writes.do('a', a.fn);
      const rb = writes.do('b', b.fn);
      expect(a.pushes).toHaveLength(1);
      expect(b.pushes).toHaveLength(1);
      expect(writes.stats()).toMatchObject({ runs: 2, coalesced: 0, size: 2 });
      b.pushes[0].resolve('b');
      await expect(rb).resolves.toBe('b');
      a.pushes[0].resolve('a');
      await expect(ra).resolves.toBe('a');
      expect(writes.stats().size).toBe(0);
    });

    it('a pending run of one key does not wait for another key', async () => {
      const writes = new WriteGroup();
      const a = controlledPush<string>();
      const b = controlledPush<string>();
      void writes.do('a', a.fn);
      void writes.do('a', a.fn);
      void writes.do('b', b.fn);
      const bPending = writes.do('b', b.fn);
      b.pushes[0].resolve('b1');
      await flushMicrotasks();
      expect(a.pushes).toHaveLength(1);
      expect(b.pushes).toHaveLength(2);
      b.pushes[1].resolve('b2');
      await expect(bPending).resolves.toBe('b2');
      a.pushes[0].resolve('a1');
      await flushMicrotasks();
      a.pushes[1].resolve('a2');
      await flushMicrotasks();
      expect(writes.stats()).toMatchObject({ runs: 4, size: 0 });
    });
  });

  describe('re-entry', () => {
    /** The rejection of a call that must fail as a re-entry of `key`. */
    async function reentryOf(call: Promise<unknown> | undefined, key: string) {
      expect(call).toBeDefined();
      const error = await call!.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SingleflightReentryError);
      expect((error as SingleflightReentryError).key).toBe(key);
      return error as SingleflightReentryError;
    }

    it('a run that calls its own key before its first await rejects that call at once; the run and the key go on', async () => {
      const writes = new WriteGroup();
      const gate = deferred<string>();
      let inner: Promise<string> | undefined;
      const outer = writes.do('k', () => {
        inner = writes.do('k', async () => 'never');
        return gate.promise;
      });
      const error = await reentryOf(inner, 'k');
      expect(error.message).toContain('"k"');
      expect(error.message).toContain('MergeWrites run');
      expect(error.message).toContain('different key');
      // The run in progress is unaffected, and the re-entry queued no pending run.
      gate.resolve('outer');
      await expect(outer).resolves.toBe('outer');
      expect(writes.stats()).toMatchObject({ calls: 2, runs: 1, coalesced: 0, size: 0 });
      // Nothing is stuck: the key's next call runs at once.
      const later = jest.fn(async () => 'later');
      const next = writes.do('k', later);
      expect(later).toHaveBeenCalledTimes(1);
      await expect(next).resolves.toBe('later');
    });

    it('a run that returns its own re-entrant call fails with the SingleflightReentryError, and frees the key', async () => {
      const writes = new WriteGroup();
      const outer = writes.do('k', (): Promise<string> => writes.do('k', async () => 'never'));
      await reentryOf(outer, 'k');
      expect(writes.stats()).toMatchObject({ runs: 1, failures: 1, size: 0 });
      await expect(writes.do('k', async () => 'again')).resolves.toBe('again');
    });

    it('the pending run still happens, with the outside caller it was made for', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      let inner: Promise<string> | undefined;
      const first = outcome(
        writes.do('k', (...args: unknown[]) => {
          inner = writes.do('k', async () => 'never');
          return push.fn(...args);
        }),
      );
      const waiting = writes.do('k', push.fn, { args: ['outside'] });
      await reentryOf(inner, 'k');
      push.pushes[0].resolve('run 1');
      await flushMicrotasks();
      expect(push.seen).toEqual([[], ['outside']]);
      push.pushes[1].resolve('run 2');
      await expect(waiting).resolves.toBe('run 2');
      expect(first).toMatchObject({ settled: true, value: 'run 1' });
      expect(writes.stats()).toMatchObject({ runs: 2, coalesced: 0, size: 0 });
    });

    it('detects re-entry through a chain of other keys (k -> k2 -> k)', async () => {
      const writes = new WriteGroup();
      let inner: Promise<string> | undefined;
      const outer = writes.do('k', () =>
        writes.do('k2', async () => {
          inner = writes.do('k', async () => 'never');
          return 'k2';
        }),
      );
      await reentryOf(inner, 'k');
      await expect(outer).resolves.toBe('k2');
      expect(writes.stats()).toMatchObject({ runs: 2, size: 0 });
    });

    it('detects re-entry through the pending run of a busy key that the run waits for', async () => {
      const writes = new WriteGroup();
      const k2 = controlledPush<string>();
      void writes.do('k2', k2.fn); // k2 is busy: the call from k's run becomes its pending run
      let inner: Promise<string> | undefined;
      const outer = writes.do('k', () =>
        writes.do('k2', () => {
          inner = writes.do('k', async () => 'never');
          return 'k2 pending';
        }),
      );
      expect(inner).toBeUndefined();
      k2.pushes[0].resolve('k2 first');
      await expect(outer).resolves.toBe('k2 pending');
      await reentryOf(inner, 'k');
      expect(writes.stats().size).toBe(0);
    });

    it('a retry that calls its own key before its first await is a re-entry too', async () => {
      const writes = new WriteGroup({ retry: { attempts: 2 } });
      const inner: Promise<string>[] = [];
      let tries = 0;
      const outer = writes.do('k', async () => {
        if (++tries === 1) throw new Error('transient');
        inner.push(writes.do('k', async () => 'never'));
        return `try ${tries}`;
      });
      await expect(outer).resolves.toBe('try 2');
      expect(inner).toHaveLength(1);
      await reentryOf(inner[0], 'k');
      expect(writes.stats()).toMatchObject({ runs: 1, retries: 1, size: 0 });
    });

    it('the pending run that calls its own key before its first await is a re-entry too', async () => {
      const writes = new WriteGroup();
      const gate = deferred<string>();
      const first = writes.do('k', () => gate.promise);
      let inner: Promise<string> | undefined;
      const pending = writes.do('k', () => {
        inner = writes.do('k', async () => 'never');
        return 'pending run';
      });
      gate.resolve('first');
      await expect(first).resolves.toBe('first');
      await expect(pending).resolves.toBe('pending run');
      await reentryOf(inner, 'k');
      expect(writes.stats()).toMatchObject({ runs: 2, size: 0 });
    });

    it('a run may start runs of other keys, awaited or fire-and-forget, and outside callers are coalesced as usual', async () => {
      const writes = new WriteGroup();
      const gate = deferred();
      const other = jest.fn(async () => 'other');
      let background: Promise<string> | undefined;
      const outer = writes.do('k', async () => {
        background = writes.do('other', other); // not awaited: a plain call of another key
        const nested = await writes.do('nested', async () => 'nested');
        await gate.promise;
        return nested;
      });
      expect(other).toHaveBeenCalledTimes(1);
      await flushMicrotasks();
      // Called from outside any run, after the run's first await: a plain coalesced call.
      const outside = writes.do('k', async () => 'outside');
      gate.resolve();
      await expect(outer).resolves.toBe('nested');
      await expect(background).resolves.toBe('other');
      await expect(outside).resolves.toBe('outside');
      expect(writes.stats()).toMatchObject({ runs: 4, coalesced: 0, size: 0 });
    });

    it('without detectAsyncReentry, a call of its own key after an await is not detected: it becomes the pending run', async () => {
      const writes = new WriteGroup();
      const order: string[] = [];
      let inner: Promise<string> | undefined;
      const outer = writes.do('k', async () => {
        await Promise.resolve();
        // Not awaited here: awaiting it would deadlock the key (see detectAsyncReentry).
        inner = writes.do('k', async () => {
          order.push('inner run');
          return 'inner';
        });
        order.push('outer run');
        return 'outer';
      });
      await expect(outer).resolves.toBe('outer');
      await expect(inner).resolves.toBe('inner');
      expect(order).toEqual(['outer run', 'inner run']);
    });

    describe('with detectAsyncReentry', () => {
      it('a run that calls its own key after an await rejects that call; the key is not stuck', async () => {
        const writes = new WriteGroup({ detectAsyncReentry: true });
        const outer = writes.do('k', async (): Promise<string> => {
          await Promise.resolve();
          return writes.do('k', async () => 'never');
        });
        await reentryOf(outer, 'k');
        expect(writes.stats()).toMatchObject({ runs: 1, failures: 1, size: 0 });
        await expect(writes.do('k', async () => 'later')).resolves.toBe('later');
      });

      it('detects k -> k2 -> k after awaits, and allows nested different keys', async () => {
        const writes = new WriteGroup({ detectAsyncReentry: true });
        let inner: Promise<string> | undefined;
        const outer = writes.do('k', async () => {
          await Promise.resolve();
          return writes.do('k2', async () => {
            await Promise.resolve();
            const k3 = await writes.do('k3', async () => 'k3');
            inner = writes.do('k', async () => 'never');
            return `k2 ${k3}`;
          });
        });
        await expect(outer).resolves.toBe('k2 k3');
        await reentryOf(inner, 'k');
        expect(writes.stats()).toMatchObject({ runs: 3, size: 0 });
      });

      it('tracks retries and the pending run after their awaits', async () => {
        const writes = new WriteGroup({ detectAsyncReentry: true, retry: { attempts: 2 } });
        const gate = deferred();
        const inner: Promise<string>[] = [];
        let tries = 0;
        const first = writes.do('k', async () => {
          await gate.promise;
          if (++tries === 1) throw new Error('transient');
          await Promise.resolve();
          inner.push(writes.do('k', async () => 'never')); // from the retry
          return 'first';
        });
        const pending = writes.do('k', async () => {
          await Promise.resolve();
          inner.push(writes.do('k', async () => 'never')); // from the pending run
          return 'pending';
        });
        gate.resolve();
        await expect(first).resolves.toBe('first');
        await expect(pending).resolves.toBe('pending');
        expect(inner).toHaveLength(2);
        for (const call of inner) await reentryOf(call, 'k');
        expect(writes.stats()).toMatchObject({ runs: 2, retries: 1, size: 0 });
      });

      it('an outside caller is coalesced, and a leftover timer of a settled run is a plain call', async () => {
        const writes = new WriteGroup({ detectAsyncReentry: true });
        const gate = deferred();
        const outsideGate = deferred();
        const timerFired = deferred();
        let fromTimer: Promise<string> | undefined;
        const outer = writes.do('k', async () => {
          await Promise.resolve();
          // Fires after this run settled, during the next run of the key: no re-entry, since
          // this run waits for nothing any more.
          setTimeout(() => {
            fromTimer = writes.do('k', async () => 'from timer');
            timerFired.resolve();
          }, 0);
          await gate.promise;
          return 'outer';
        });
        await flushMicrotasks();
        const outside = writes.do('k', async () => {
          await outsideGate.promise;
          return 'outside';
        });
        gate.resolve();
        await expect(outer).resolves.toBe('outer');
        await timerFired.promise;
        outsideGate.resolve();
        await expect(outside).resolves.toBe('outside');
        await expect(fromTimer).resolves.toBe('from timer');
        expect(writes.stats()).toMatchObject({ runs: 3, coalesced: 0, size: 0 });
      });
    });
  });

  describe('bad input', () => {
    it.each([
      ['a number key', 42],
      ['an undefined key', undefined],
      ['an object key', { id: 1 }],
    ])('%s rejects with SingleflightArgumentError', async (_, key) => {
      const writes = new WriteGroup();
      const fn = jest.fn(async () => 1);
      await expect(writes.do(key as unknown as string, fn)).rejects.toThrow(
        SingleflightArgumentError,
      );
      expect(fn).not.toHaveBeenCalled();
      expect(writes.stats()).toMatchObject({ calls: 0, runs: 0, size: 0 });
    });

    it.each([
      ['undefined', undefined],
      ['a string', 'push'],
      ['a promise', Promise.resolve(1)],
    ])('fn = %s rejects with SingleflightArgumentError naming the key', async (_, fn) => {
      const writes = new WriteGroup();
      const error = await writes
        .do('push:7', fn as unknown as () => number)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SingleflightArgumentError);
      expect((error as Error).message).toContain('push:7');
      expect(writes.stats()).toMatchObject({ calls: 0, size: 0 });
    });

    it('bad input does not disturb a run in flight', async () => {
      const writes = new WriteGroup();
      const push = controlledPush<string>();
      const first = writes.do('k', push.fn);
      await expect(writes.do('k', null as unknown as () => string)).rejects.toThrow(
        SingleflightArgumentError,
      );
      push.pushes[0].resolve('ok');
      await expect(first).resolves.toBe('ok');
      expect(writes.stats()).toMatchObject({ calls: 1, runs: 1, size: 0 });
    });

    it.each([
      ['an unknown option', { retries: 3 }],
      ['attempts 0', { retry: { attempts: 0 } }],
      ['fractional attempts', { retry: { attempts: 1.5 } }],
      ['a negative backoff', { retry: { attempts: 2, backoffMs: -1 } }],
      ['a NaN backoff', { retry: { attempts: 2, backoffMs: Number.NaN } }],
      ['an infinite backoff', { retry: { attempts: 2, backoffMs: Infinity } }],
      ['retry that is not an object', { retry: 3 }],
      ['a non-boolean detectAsyncReentry', { detectAsyncReentry: 'yes' }],
      ['options that are not an object', 'fast'],
    ])('the constructor throws SingleflightOptionsError for %s', (_, options) => {
      expect(() => new WriteGroup(options as never)).toThrow(SingleflightOptionsError);
    });

    it('names the unknown option and the allowed ones', () => {
      expect(() => new WriteGroup({ retries: 3 } as never)).toThrow(
        /Unknown option "retries".*Allowed: retry, detectAsyncReentry/,
      );
    });

    it.each([
      ['an unknown option', { debounce: 10 }],
      ['args that are not an array', { args: 1 }],
      ['merge that is not a function', { merge: 'concat' }],
      ['attempts 0', { retry: { attempts: 0 } }],
      ['a negative backoff', { retry: { attempts: 3, backoffMs: -5 } }],
    ])('do() rejects with SingleflightOptionsError for %s, without running', async (_, options) => {
      const writes = new WriteGroup();
      const fn = jest.fn(async () => 1);
      await expect(writes.do('k', fn, options as never)).rejects.toThrow(SingleflightOptionsError);
      expect(fn).not.toHaveBeenCalled();
      expect(writes.stats()).toMatchObject({ calls: 0, runs: 0, size: 0 });
    });

    it('accepts attempts 1, backoff 0 and a backoff function', () => {
      expect(() => new WriteGroup({ retry: { attempts: 1 } })).not.toThrow();
      expect(() => new WriteGroup({ retry: { attempts: 2, backoffMs: 0 } })).not.toThrow();
      expect(() => new WriteGroup({ retry: { attempts: 2, backoffMs: () => 5 } })).not.toThrow();
      expect(() => new WriteGroup({ retry: undefined })).not.toThrow();
      expect(() => new WriteGroup({ detectAsyncReentry: true })).not.toThrow();
      expect(() => new WriteGroup({ detectAsyncReentry: false })).not.toThrow();
    });
  });
});
