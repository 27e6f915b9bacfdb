import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { KeyStates, type Stamp } from '../../lib/cache/key-states.js';
import { Refreshes } from '../../lib/cache/refreshes.js';
import { deferred, flushMicrotasks } from '../support/deferred.js';

// The background refreshes of refresh-ahead on their own: one per key at a time, each bounded by
// its deadline, and a refresh given up stores nothing. Fake timers; work and keep are deferreds.

afterEach(() => {
  jest.useRealTimers();
});

function setup() {
  jest.useFakeTimers();
  const states = new KeyStates();
  const warnings: string[] = [];
  const refreshes = new Refreshes(states, { warn: (message) => void warnings.push(message) });
  const kept: [Stamp, unknown][] = [];
  const keep = (stamp: Stamp, value: unknown) => (kept.push([stamp, value]), Promise.resolve());
  // The load that found the value past its threshold, still a user of the key's state.
  const state = states.enter('k');
  return { states, warnings, refreshes, kept, keep, state };
}

describe('Refreshes', () => {
  it('runs one refresh per key at a time, as a user of its state, then keeps its value', async () => {
    const { states, refreshes, kept, keep, state } = setup();
    const work = deferred<string>();
    let runs = 0;
    refreshes.start('k', state, 1000, () => (runs++, work.promise), keep);
    refreshes.start('k', state, 1000, () => (runs++, work.promise), keep);
    expect(runs).toBe(1);
    states.exit('k', state); // the load ends; the refresh still holds the state
    expect(states.get('k')).toBe(state);
    work.resolve('new');
    await flushMicrotasks();
    expect(kept).toEqual([[{ generation: 0, run: 1 }, 'new']]);
    expect(state.refreshing).toBe(false);
    expect(states.size).toBe(0);
  });

  it('gives up a refresh at its deadline: the key is free, its late value is not kept', async () => {
    const { states, warnings, refreshes, kept, keep, state } = setup();
    const hung = deferred<string>();
    refreshes.start('k', state, 1000, () => hung.promise, keep);
    states.exit('k', state);
    await jest.advanceTimersByTimeAsync(999);
    expect(states.size).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(states.size).toBe(0);
    expect(state.refreshing).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/"k" has not settled within 1000 ms/)]);
    hung.resolve('late');
    await flushMicrotasks();
    expect(kept).toEqual([]);
    expect(states.size).toBe(0);
  });

  it('does not give up a refresh whose work settled in time while its value is being stored', async () => {
    const { states, warnings, refreshes, state } = setup();
    const stored = deferred<void>();
    refreshes.start(
      'k',
      state,
      1000,
      () => 'new',
      () => stored.promise,
    );
    states.exit('k', state);
    await jest.advanceTimersByTimeAsync(5000);
    // The write is still under way: a drop of the key must find it in the state and wait for it.
    expect(states.get('k')).toBe(state);
    expect(warnings).toEqual([]);
    stored.resolve();
    await flushMicrotasks();
    expect(states.size).toBe(0);
  });

  it('logs a refresh that fails in time, and not one that fails after it was given up', async () => {
    const { warnings, refreshes, keep, state } = setup();
    refreshes.start('k', state, 1000, () => Promise.reject(new Error('db down')), keep);
    await flushMicrotasks();
    expect(warnings).toEqual([expect.stringMatching(/refresh .* of key "k" failed/)]);
    expect(state.refreshing).toBe(false);
    const hung = deferred<string>();
    refreshes.start('k', state, 1000, () => hung.promise, keep);
    await jest.advanceTimersByTimeAsync(1000);
    hung.reject(new Error('late failure'));
    await flushMicrotasks();
    expect(warnings).toHaveLength(2); // the failure, then the give-up; not the late failure
  });

  it('waits the longest timer, not no time at all, for a deadline beyond it (a ttl of 2^31 ms or more)', async () => {
    const { warnings, refreshes, keep, state } = setup();
    refreshes.start('k', state, 2 ** 31 + 10, () => deferred<string>().promise, keep);
    await jest.advanceTimersByTimeAsync(2 ** 31 - 2);
    expect(state.refreshing).toBe(true);
    await jest.advanceTimersByTimeAsync(1);
    expect(state.refreshing).toBe(false);
    expect(warnings.join()).toMatch(/within 2147483647 ms/);
  });
});
