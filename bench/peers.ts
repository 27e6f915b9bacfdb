/**
 * The peers of the peer benchmark (bench/scenarios/peers.ts) and of bench/peer-claims.ts, each
 * behind the `Dedupe` shape of bench/baseline.ts and configured for in-flight dedupe with as
 * little caching as it allows (read from each package's source in node_modules):
 *
 *   cache-manager wrap()   `createCache()` (in-memory Keyv), `wrap(key, fn, 1)`. wrap() always
 *                          writes the value to the store after the flight; 1 ms is the shortest
 *                          TTL (0 means "no expiry" in Keyv). Concurrent callers are coalesced by
 *                          @cacheable/utils' coalesceAsync.
 *   coalesceAsync          @cacheable/utils' `coalesceAsync(key, fn)` alone: what wrap() dedupes
 *                          with, without the store. Its map of keys is one for the process.
 *   async-cache-dedupe     `createCache({ ttl: 0 })`, one `define()`d function: ttl 0 is its
 *                          documented dedupe-only mode (the storage is never read nor written).
 *   p-memoize              `pMemoize(fn, { cache: false })`: only its map of pending promises.
 *   bentocache             one store with a memory L1 (`memoryDriver({ serialize: false })`, the
 *                          default 1000-item LRU), `getOrSet({ key, factory, ttl: 60_000 })`. Its
 *                          stampede protection is a mutex per key: waiters take the lock one after
 *                          another and read the value the first one stored. The cache cannot be
 *                          turned off without losing the dedupe: a value not stored, or expired
 *                          before the last waiter reads it, makes that waiter run the factory
 *                          again (bench/peer-claims.ts: ttl 1 ms, 2 to 6 runs for 100 callers;
 *                          ttl 1 s, 5 to 7 runs for 100k callers, whose drain through the lock
 *                          outlasts 1 s). So it keeps values 1 min, which outlasts every burst
 *                          here; the LRU bounds what it keeps.
 *
 * The peers that store values (cache-manager, bentocache) would answer later waves or batches of
 * a key from their cache, so the peer scenarios give every wave / batch keys of its own, for every
 * contender alike.
 */
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache as createAsyncCache } from 'async-cache-dedupe';
import { BentoCache, bentostore } from 'bentocache';
import { coalesceAsync } from '@cacheable/utils';
import { createCache } from 'cache-manager';
import pMemoize from 'p-memoize';
import { Group } from '../lib/index.js';
import { type Dedupe, MapDedupe } from './baseline.js';

export interface Peer {
  name: string;
  /** How it is set up, for the README and the report. */
  config: string;
  /** A fresh instance: nothing shared with another run. */
  make(): Dedupe;
}

type Work = () => Promise<unknown>;

/** cache-manager 7: wrap() with the shortest TTL Keyv takes (1 ms; 0 would mean "forever"). */
export function cacheManagerWrap(): Dedupe {
  const cache = createCache();
  return { do: (key, fn) => cache.wrap(key, fn, 1) };
}

/** @cacheable/utils' coalesceAsync: joiners wait on a promise of their own, resolved by the leader. */
export function cacheableCoalesce(): Dedupe {
  return { do: (key, fn) => coalesceAsync(key, fn) };
}

/**
 * async-cache-dedupe: ttl 0, dedupe only. Its functions are defined once and take one argument,
 * the key; the work of the current call is handed over in a variable (read synchronously by the
 * first caller of a key, which is the only one that runs it).
 */
export function asyncCacheDedupe(): Dedupe {
  let current: Work = () => Promise.resolve(undefined);
  const cache = createAsyncCache({ ttl: 0 }).define('load', (_key: string) => current());
  return {
    do<T>(key: string, fn: () => Promise<T>): Promise<T> {
      current = fn;
      return cache.load(key) as Promise<T>;
    },
  };
}

/** p-memoize 8 with `cache: false`: pending promises only, keyed by the first argument. */
export function pMemoizeNoCache(): Dedupe {
  let current: Work = () => Promise.resolve(undefined);
  const memoized = pMemoize((_key: string) => current(), { cache: false });
  return {
    do<T>(key: string, fn: () => Promise<T>): Promise<T> {
      current = fn;
      return memoized(key) as Promise<T>;
    },
  };
}

/** bentocache: getOrSet on a memory L1 (no serialization), values kept `ttl` ms. */
export function bentoGetOrSet(ttl = 60_000): Dedupe {
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ serialize: false })) },
  });
  return { do: (key, fn) => bento.getOrSet({ key, factory: fn, ttl }) };
}

export const peers: readonly Peer[] = [
  {
    name: 'cache-manager wrap()',
    config: 'createCache() in memory, wrap(key, fn, 1): value stored 1 ms after each flight',
    make: cacheManagerWrap,
  },
  {
    name: 'coalesceAsync',
    config: "@cacheable/utils' coalesceAsync(key, fn): in-flight dedupe only, nothing stored",
    make: cacheableCoalesce,
  },
  {
    name: 'async-cache-dedupe',
    config: 'createCache({ ttl: 0 }): dedupe only, nothing stored',
    make: asyncCacheDedupe,
  },
  {
    name: 'p-memoize',
    config: 'pMemoize(fn, { cache: false }): pending promises only',
    make: pMemoizeNoCache,
  },
  {
    name: 'bentocache getOrSet',
    config:
      'memory L1 (serialize: false, 1000-item LRU), getOrSet({ key, factory, ttl: 60_000 }): value stored 1 min',
    make: () => bentoGetOrSet(),
  },
];

/** The two rows every peer scenario starts with. */
export const own: readonly Peer[] = [
  { name: 'Map baseline', config: 'bench/baseline.ts', make: () => new MapDedupe() },
  { name: 'Group.do', config: 'new Group()', make: () => new Group() },
];
