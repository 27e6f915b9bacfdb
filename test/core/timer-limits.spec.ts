import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  Group,
  SingleflightOptionsError,
  SingleflightTimeoutError,
  WriteGroup,
} from '../../lib/index.js';
import { deferred, flushMicrotasks, rejectionOf, track } from '../support/deferred.js';

// A Node timer waits at most 2^31 - 1 ms (about 24.8 days); a longer delay fires after 1 ms. Every
// duration that sets a timer is refused above that at start-up (or call time, for a call's own
// options), or honoured. The fake clock overflows the same way, so these tests see the 1 ms fire.

const MAX = 2 ** 31 - 1;
const TOO_LONG = 2 ** 31;

describe('durations past the longest timer', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('refuses a call timeout above 2^31 - 1 ms, saying the maximum; 2^31 - 1 itself waits', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const error = await rejectionOf(group.do('k', () => gate.promise, { timeout: TOO_LONG }));
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect((error as Error).message).toMatch(/Option "timeout" in call options/);
    expect((error as Error).message).toContain('at most 2147483647');
    expect(group.stats()).toMatchObject({ flights: 0, size: 0 });

    const longest = track(group.do('k', () => gate.promise, { timeout: MAX }));
    await jest.advanceTimersByTimeAsync(1000);
    expect(longest.state.status).toBe('pending');
    await jest.advanceTimersByTimeAsync(MAX);
    expect(longest.state.status).toBe('rejected');
    expect((longest.state as { reason: unknown }).reason).toBeInstanceOf(SingleflightTimeoutError);
  });

  it('honours a forgetAfter of 2^31 ms and more (a deadline, no timer): joiners still join', async () => {
    const group = new Group({ forgetAfter: TOO_LONG });
    const gate = deferred<string>();
    let runs = 0;
    const work = () => (runs++, gate.promise);
    const first = group.do('k', work);
    await jest.advanceTimersByTimeAsync(1000);
    const second = group.do('k', work, { forgetAfter: 4 * TOO_LONG });
    gate.resolve('v');
    await expect(Promise.all([first, second])).resolves.toEqual(['v', 'v']);
    expect(runs).toBe(1);
  });

  it('refuses retry.backoffMs above 2^31 - 1 ms in the group and in a call', async () => {
    const retry = { attempts: 2, backoffMs: TOO_LONG };
    expect(() => new WriteGroup({ retry })).toThrow(SingleflightOptionsError);
    expect(() => new WriteGroup({ retry })).toThrow(/2147483647/);
    const writes = new WriteGroup();
    const error = await rejectionOf(writes.do('k', async () => 'never', { retry }));
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect(writes.stats()).toMatchObject({ runs: 0, size: 0 });
  });

  it('stops doubling retry.backoffMs at 2^31 - 1 ms instead of firing after 1 ms', async () => {
    let tries = 0;
    const writes = new WriteGroup({ retry: { attempts: 3, backoffMs: 2 ** 30 } });
    const run = track(
      writes.do('k', async () => {
        if (++tries < 3) throw new Error(`try ${tries} failed`);
        return tries;
      }),
    );
    await jest.advanceTimersByTimeAsync(2 ** 30);
    expect(tries).toBe(2);
    // The second wait would be 2^31 ms: it waits 2^31 - 1 ms, not 1 ms.
    await jest.advanceTimersByTimeAsync(1000);
    expect(tries).toBe(2);
    await jest.advanceTimersByTimeAsync(MAX - 1000);
    await flushMicrotasks();
    expect(run.state).toEqual({ status: 'fulfilled', value: 3 });
  });

  it.each([TOO_LONG, Infinity, -1, Number.NaN, '100'])(
    'fails the run when a backoffMs function returns %p, naming it, with the work error as cause',
    async (wait) => {
      const backoffMs = () => wait as number;
      const writes = new WriteGroup({ retry: { attempts: 3, backoffMs } });
      const boom = new Error('push failed');
      let tries = 0;
      const run = writes.do('k', () => (tries++, Promise.reject(boom)));
      const error = (await rejectionOf(run)) as Error;
      expect(error).toBeInstanceOf(SingleflightOptionsError);
      expect(error.message).toContain('backoffMs function returned');
      expect(error.message).toContain('"k"');
      expect(error.message).toContain('2147483647');
      expect(error.cause).toBe(boom);
      expect(tries).toBe(1);
      expect(writes.stats()).toMatchObject({ failures: 1, size: 0 });
      // The key is free: the next call runs at once.
      await expect(writes.do('k', async () => 'next')).resolves.toBe('next');
    },
  );

  it('accepts a backoffMs function that returns 2^31 - 1 ms, and waits for it', async () => {
    let tries = 0;
    const writes = new WriteGroup({ retry: { attempts: 2, backoffMs: () => MAX } });
    const run = track(
      writes.do('k', async () => (++tries === 1 ? Promise.reject(new Error('x')) : tries)),
    );
    await jest.advanceTimersByTimeAsync(MAX - 1);
    expect(tries).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    await flushMicrotasks();
    expect(run.state).toEqual({ status: 'fulfilled', value: 2 });
  });
});
