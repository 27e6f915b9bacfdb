import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createCache } from 'cache-manager';
import { KEYS_IN_PROGRESS } from '../../lib/cache/flight-cache.js';
import { FlightCache } from '../../lib/index.js';
import { deferred, flushMicrotasks } from '../support/deferred.js';

// Refresh-ahead (refreshThreshold) over a real cache-manager (the in-memory Keyv default), with
// jest's fake clock: a refresh that never settles is given up after refreshThreshold, and no
// refresh stores its value over the value of a run that began after it.

afterEach(() => {
  jest.useRealTimers();
});

const TTL = 2000;
const THRESHOLD = 1000;
const policy = { ttl: TTL, refreshThreshold: THRESHOLD };

/** A FlightCache with its mirror, a value `first` stored at time 0, and a log of its warnings. */
async function cached(first: string) {
  jest.useFakeTimers({ now: 0 });
  const warnings: string[] = [];
  const cache = new FlightCache(createCache(), {
    local: true,
    logger: { warn: (message) => void warnings.push(message) },
  });
  await cache.load('k', () => first, policy);
  return { cache, warnings };
}

/** What a caller gets now: the mirror's answer if it has one, else a load (whose work fails the test). */
async function read(cache: FlightCache): Promise<unknown> {
  return (
    cache.peek('k') ??
    cache.load(
      'k',
      () => {
        throw new Error('unexpected run of the work');
      },
      policy,
    )
  );
}

/** Starts a refresh: a hit with less than the threshold left, whose work is `work`. */
async function hitPastThreshold(cache: FlightCache, cachedValue: string, work: () => unknown) {
  await expect(cache.load('k', work, policy)).resolves.toBe(cachedValue);
}

describe('FlightCache refresh-ahead', () => {
  it('stores the value of a refresh that settles in time, and then holds nothing for the key', async () => {
    const { cache } = await cached('v1');
    jest.setSystemTime(1500);
    const refresh = deferred<string>();
    await hitPastThreshold(cache, 'v1', () => refresh.promise);
    expect(cache[KEYS_IN_PROGRESS]).toBe(1);
    refresh.resolve('v2');
    await flushMicrotasks();
    expect(cache[KEYS_IN_PROGRESS]).toBe(0);
    await expect(cache.stored('k')).resolves.toBe('v2');
    await expect(read(cache)).resolves.toBe('v2');
  });

  it('gives up a refresh that has not settled within refreshThreshold: the key is refreshed again, nothing is kept for it', async () => {
    const { cache, warnings } = await cached('v1');
    jest.setSystemTime(1500);
    const hung = deferred<string>();
    await hitPastThreshold(cache, 'v1', () => hung.promise);
    expect(cache[KEYS_IN_PROGRESS]).toBe(1);
    await jest.advanceTimersByTimeAsync(THRESHOLD - 1);
    expect(cache[KEYS_IN_PROGRESS]).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(cache[KEYS_IN_PROGRESS]).toBe(0);
    expect(warnings.join()).toMatch(/refresh .* of key "k" has not settled within 1000 ms/);
    // The value expired meanwhile (at 2000): a load stores v2, which is refreshed in its turn.
    await expect(cache.load('k', () => 'v2', policy)).resolves.toBe('v2');
    jest.setSystemTime(2500 + 1500);
    const second = deferred<string>();
    let runs = 0;
    await hitPastThreshold(cache, 'v2', () => (runs++, second.promise));
    expect(runs).toBe(1);
    second.resolve('v3');
    await flushMicrotasks();
    await expect(cache.stored('k')).resolves.toBe('v3');
    // The given-up refresh ends at last: its value is older than v3 and is not stored.
    hung.resolve('late');
    await flushMicrotasks();
    await expect(cache.stored('k')).resolves.toBe('v3');
    await expect(read(cache)).resolves.toBe('v3');
    expect(cache[KEYS_IN_PROGRESS]).toBe(0);
  });

  it('stores no value of a given-up refresh, even when nothing newer was stored', async () => {
    // Once given up, the refresh no longer holds the key's state, so a later invalidate could not
    // reach it: storing its value could answer one that invalidate removed.
    const { cache } = await cached('v1');
    jest.setSystemTime(1500);
    const hung = deferred<string>();
    await hitPastThreshold(cache, 'v1', () => hung.promise);
    await jest.advanceTimersByTimeAsync(THRESHOLD);
    hung.resolve('late');
    await flushMicrotasks();
    await expect(cache.stored('k')).resolves.toBeUndefined();
    expect(cache.peek('k')).toBeUndefined();
  });

  it('stores no refresh over the value of a load that began after it (the value expired meanwhile)', async () => {
    const { cache } = await cached('v1');
    jest.setSystemTime(1500);
    const refresh = deferred<string>();
    await hitPastThreshold(cache, 'v1', () => refresh.promise);
    // Expired at 2000, within the refresh's deadline (2500): a call then loads anew.
    await jest.advanceTimersByTimeAsync(600);
    await expect(cache.load('k', () => 'v2', policy)).resolves.toBe('v2');
    refresh.resolve('refreshed, begun before v2');
    await flushMicrotasks();
    await expect(cache.stored('k')).resolves.toBe('v2');
    await expect(read(cache)).resolves.toBe('v2');
    expect(cache[KEYS_IN_PROGRESS]).toBe(0);
  });

  it('stores no refresh over the value of a load after invalidate', async () => {
    const { cache } = await cached('v1');
    jest.setSystemTime(1500);
    const refresh = deferred<string>();
    await hitPastThreshold(cache, 'v1', () => refresh.promise);
    await cache.invalidate('k');
    await expect(cache.load('k', () => 'v2', policy)).resolves.toBe('v2');
    refresh.resolve('refreshed, begun before invalidate');
    await flushMicrotasks();
    await expect(cache.stored('k')).resolves.toBe('v2');
    await expect(read(cache)).resolves.toBe('v2');
  });
});
