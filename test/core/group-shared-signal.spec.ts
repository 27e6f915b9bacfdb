import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { Group, SingleflightAbortError, SingleflightTimeoutError } from '../../lib/index.js';
import { deferred, rejectionOf } from '../support/deferred.js';

// One AbortSignal passed by many concurrent callers (a shutdown signal, a request's signal given to
// every call it makes): the group holds one listener on it, not one per caller, so n callers cost
// n steps and not n^2 (an AbortSignal scans its listeners to add or remove one).

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;
const never = () => new Promise<never>(() => {});

describe('Group: one AbortSignal shared by many callers', () => {
  it('holds one listener for 1000 callers of one key and of 1000 keys, and none once they settled', async () => {
    const group = new Group();
    const { signal } = new AbortController();
    const gate = deferred<string>();
    const calls = [
      ...Array.from({ length: 1000 }, () => group.do('one', () => gate.promise, { signal })),
      ...Array.from({ length: 1000 }, (_, i) => group.do(`k${i}`, () => gate.promise, { signal })),
    ];
    expect(listeners(signal)).toBe(1);
    gate.resolve('v');
    await expect(Promise.all(calls)).resolves.toEqual(Array(2000).fill('v'));
    expect(listeners(signal)).toBe(0);
    expect(group.stats()).toMatchObject({ calls: 2000, flights: 1001, aborts: 0, size: 0 });
  });

  it('rejects every caller when it aborts, aborts each abandoned work, and frees every key', async () => {
    const group = new Group();
    const controller = new AbortController();
    const { signal } = controller;
    const workSignals: AbortSignal[] = [];
    const work = (own: AbortSignal) => (workSignals.push(own), never());
    const calls = Array.from({ length: 300 }, (_, i) => group.do(`k${i % 100}`, work, { signal }));
    expect(listeners(signal)).toBe(1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    const errors = (await Promise.all(calls.map(rejectionOf))) as SingleflightAbortError[];
    expect(errors.every((e) => e instanceof SingleflightAbortError && e.cause === reason)).toBe(
      true,
    );
    expect(errors.map((e) => e.key)).toEqual(calls.map((_, i) => `k${i % 100}`));
    expect(workSignals).toHaveLength(100);
    expect(workSignals.every((own) => own.aborted)).toBe(true);
    expect(listeners(signal)).toBe(0);
    expect(group.stats()).toMatchObject({ calls: 300, aborts: 300, size: 0 });
  });

  it('lets the callers that stayed hear the abort after others got their value', async () => {
    const group = new Group();
    const controller = new AbortController();
    const { signal } = controller;
    const fast = deferred<string>();
    const early = Array.from({ length: 5 }, () => group.do('fast', () => fast.promise, { signal }));
    const late = Array.from({ length: 5 }, () => group.do('slow', never, { signal }));
    fast.resolve('v');
    await expect(Promise.all(early)).resolves.toEqual(Array(5).fill('v'));
    expect(listeners(signal)).toBe(1);
    controller.abort();
    for (const call of late) expect(await rejectionOf(call)).toBeInstanceOf(SingleflightAbortError);
    expect(group.stats()).toMatchObject({ aborts: 5, size: 0 });
  });

  it('keeps one listener per group: two groups on one signal each hear it', async () => {
    const groups = [new Group(), new Group()];
    const controller = new AbortController();
    const { signal } = controller;
    const calls = groups.flatMap((g) =>
      Array.from({ length: 10 }, () => g.do('k', never, { signal })),
    );
    expect(listeners(signal)).toBe(2);
    controller.abort();
    for (const call of calls)
      expect(await rejectionOf(call)).toBeInstanceOf(SingleflightAbortError);
    expect(listeners(signal)).toBe(0);
    for (const g of groups) expect(g.stats()).toMatchObject({ aborts: 10, size: 0 });
  });

  describe('with timeouts', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    it('a caller that timed out leaves the signal; the rest still hear its abort', async () => {
      const group = new Group();
      const controller = new AbortController();
      const { signal } = controller;
      const short = group.do('k', never, { signal, timeout: 10 });
      const long = Array.from({ length: 3 }, () => group.do('k', never, { signal }));
      jest.advanceTimersByTime(10);
      expect(await rejectionOf(short)).toBeInstanceOf(SingleflightTimeoutError);
      expect(listeners(signal)).toBe(1);
      controller.abort();
      for (const call of long)
        expect(await rejectionOf(call)).toBeInstanceOf(SingleflightAbortError);
      expect(listeners(signal)).toBe(0);
      expect(group.stats()).toMatchObject({ timeouts: 1, aborts: 3, size: 0 });
    });
  });
});
