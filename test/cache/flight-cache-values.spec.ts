import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { createClient } from 'redis';
import { FlightCache } from '../../lib/index.js';
import { STORED_FORMAT } from '../../lib/cache/store-values.js';
import { storeKey } from '../../lib/cache/store-key.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

// FlightCache over a real cache-manager with a Keyv Redis store on a real redis-server: what the
// store gives back has the type it was given; a value from 0.1 (plain JSON) reads as a miss; a
// value that cannot be encoded reaches no store and never fails the call.

let server: RedisServer;
const clients: Array<ReturnType<typeof createClient>> = [];
beforeAll(async () => {
  server = await startRedis();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
afterAll(async () => {
  await server?.stop();
});

async function redisStore(namespace: string): Promise<Keyv> {
  const client = createClient({ url: server.url, disableOfflineQueue: true });
  await client.connect();
  clients.push(client);
  return new Keyv({ store: new KeyvRedis(client as never), namespace });
}

/** An in-memory Keyv that keeps values as they are, as cache-manager's default store does. */
function memoryStore(): Keyv {
  const store = new Keyv();
  store.serialize = undefined;
  store.deserialize = undefined;
  return store;
}

/** A FlightCache of its own over `stores` (a new process, as far as the cache can tell). */
function flightCache(stores: Keyv[], warnings: string[] = []): FlightCache {
  const logger = { warn: (message: string) => void warnings.push(message) };
  return new FlightCache(createCache({ stores }), { logger });
}

const at = new Date('2026-01-02T03:04:05.678Z');

describe('FlightCache over a Redis store', () => {
  it('gives back a Date, a Map and a BigInt, not the JSON of them', async () => {
    const value = { at, byRegion: new Map([['eu', 7n]]) };
    await flightCache([await redisStore('types')]).load('k', () => value, { ttl: 60_000 });
    let runs = 0;
    const cached = await flightCache([await redisStore('types')]).load('k', () => ++runs, {
      ttl: 60_000,
    });
    expect(runs).toBe(0);
    expect(cached).toStrictEqual(value);
    await expect(flightCache([await redisStore('types')]).stored('k')).resolves.toStrictEqual(
      value,
    );
  });

  it('never reads a value cached by 0.1 (plain JSON), nor 0.1 one of its values: a rolling deploy', async () => {
    const store = await redisStore('legacy');
    // What 0.1 wrote, and reads: the value itself under the bare key, kept as JSON (the Date a string).
    const old = createCache({ stores: [store] });
    await old.set('k', { at }, 60_000);
    const warnings: string[] = [];
    let runs = 0;
    const work = () => ({ at, run: ++runs });
    await expect(
      flightCache([store], warnings).load('k', work, { ttl: 60_000 }),
    ).resolves.toStrictEqual({
      at,
      run: 1,
    });
    // A later process reads this release's value; 0.1 still reads its own, never the codec's text.
    await expect(flightCache([store]).load('k', work, { ttl: 60_000 })).resolves.toStrictEqual({
      at,
      run: 1,
    });
    await expect(old.get('k')).resolves.toEqual({ at: at.toISOString() });
    expect(warnings).toEqual([]);
  });

  it('reads a value someone else wrote under its key as a miss, once logged, and replaces it', async () => {
    const store = await redisStore('foreign');
    await createCache({ stores: [store] }).set(storeKey('k'), { at }, 60_000);
    const warnings: string[] = [];
    const cache = flightCache([store], warnings);
    let runs = 0;
    const work = () => ({ at, run: ++runs });
    for (let i = 0; i < 2; i++) {
      await expect(cache.load('k', work, { ttl: 60_000 })).resolves.toStrictEqual({ at, run: 1 });
    }
    expect(warnings).toEqual([expect.stringMatching(/"k" was read as a miss.*not written by/)]);
    expect(((await store.get(storeKey('k'))) as string).startsWith(STORED_FORMAT)).toBe(true);
  });

  it('stores a value that cannot be encoded in no store, says so once, and answers the call', async () => {
    class Session {
      constructor(readonly user: string) {}
    }
    // An in-memory store (keeps values as they are) before the Redis one: neither gets it.
    const memory = memoryStore();
    const redis = await redisStore('refused');
    const warnings: string[] = [];
    const cache = flightCache([memory, redis], warnings);
    const policy = { ttl: 60_000 };
    const session = new Session('ada');
    for (let i = 0; i < 3; i++) {
      await expect(cache.load('k', () => session, policy)).resolves.toBe(session);
    }
    expect(await memory.get(storeKey('k'))).toBeUndefined();
    expect(await redis.get(storeKey('k'))).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 3, errors: 0 });
    expect(warnings).toEqual([
      expect.stringMatching(/key "k" was not cached: .*an instance of Session.*`codecs`/),
    ]);
  });

  it('keeps the value itself in an in-memory store, and the codec text in the Redis one', async () => {
    const memory = memoryStore();
    const redis = await redisStore('tiers');
    const value = { at, list: [undefined] };
    await flightCache([memory, redis]).load('k', () => value, { ttl: 60_000 });
    expect(await memory.get(storeKey('k'))).toBe(value);
    // A new process with an empty memory tier: the Redis tier answers, and the copy is typed.
    const fresh = memoryStore();
    const cached = await flightCache([fresh, redis]).load('k', () => 'not run', { ttl: 60_000 });
    expect(cached).toStrictEqual(value);
    expect(await fresh.get(storeKey('k'))).toStrictEqual(value);
  });
});
