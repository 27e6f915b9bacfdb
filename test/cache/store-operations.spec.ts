import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { KeyStates } from '../../lib/cache/key-states.js';
import { StoreOperations } from '../../lib/cache/store-operations.js';
import { StoreValues } from '../../lib/cache/store-values.js';
import { ValueCodec } from '../../lib/cache/value-codec.js';
import { type Deferred, deferred, flushMicrotasks } from '../support/deferred.js';

// A FlightCache's store operations, over a real cache-manager whose Keyv store the test controls:
// a failing or hung store is counted and logged, never thrown; a write keeps read-your-writes
// against the key's drops.

afterEach(() => {
  jest.useRealTimers();
});

/** A Keyv store whose operations answer when the test says: at once, never, or with a failure. */
class ControlledMap extends Map<string, unknown> {
  mode: 'answer' | 'fail' | 'hold' = 'answer';
  readonly held: Deferred<void>[] = [];
  deletes = 0;
  #answer<T>(operation: () => T): Promise<T> {
    if (this.mode === 'fail') return Promise.reject(new Error('store down'));
    if (this.mode === 'answer') return Promise.resolve(operation());
    const gate = deferred<void>();
    this.held.push(gate);
    return gate.promise.then(operation);
  }
  override get(key: string) {
    return this.#answer(() => super.get(key)) as never;
  }
  override set(key: string, value: unknown) {
    return this.#answer(() => super.set(key, value)) as never;
  }
  override delete(key: string) {
    this.deletes++;
    return this.#answer(() => super.delete(key)) as never;
  }
}

/** Lets the store's held operation land, and the ones after it answer at once. */
async function release(map: ControlledMap): Promise<void> {
  await flushMicrotasks(); // Keyv reaches the store after a few reactions
  map.mode = 'answer';
  map.held.shift()!.resolve();
}

const TIMEOUT = 1000;

function setup() {
  const map = new ControlledMap();
  const cache = createCache({ stores: [new Keyv({ store: map, throwOnErrors: true })] });
  const warnings: string[] = [];
  const logger = {
    warn: (message: string, error?: unknown) => warnings.push(`${message} ${String(error)}`),
  };
  const values = new StoreValues(new ValueCodec(), logger);
  const store = new StoreOperations(cache, values, TIMEOUT, logger);
  const set = (value: unknown) => () =>
    values.write(cache.stores, 'k', values.encode(cache.stores, value)!, 60_000);
  return { map, cache, warnings, store, set, state: new KeyStates().enter('k') };
}

describe('StoreOperations reads', () => {
  it('reads a failing store as a miss, counted and logged with the key', async () => {
    const { map, store, warnings } = setup();
    map.mode = 'fail';
    await expect(store.read('k')).resolves.toBeUndefined();
    expect(store.errors).toBe(1);
    expect(warnings.join()).toMatch(/The cache store failed for key "k".*store down/);
  });

  it('reads a hung store as a miss once the timeout has passed, and only then', async () => {
    jest.useFakeTimers();
    const { map, store, warnings } = setup();
    map.mode = 'hold';
    let settled = false;
    const read = store.read('k').finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(TIMEOUT - 1);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(read).resolves.toBeUndefined();
    expect(warnings.join()).toMatch(/no answer within 1000 ms/);
    expect(store.errors).toBe(1);
  });

  it('gives `stored` a failing store as a rejection, for the caller who asked the store itself', async () => {
    const { map, store } = setup();
    map.mode = 'fail';
    await expect(store.stored('k')).rejects.toThrow('store down');
  });
});

describe('StoreOperations writes', () => {
  it('writes, then runs `stands` once, and holds the write in the key state until it ends', async () => {
    const { map, store, set, state } = setup();
    map.mode = 'hold';
    let stood = 0;
    const write = store.write('k', state, state.generation, set('v'), () => stood++);
    expect(state.writes.size).toBe(1);
    await release(map);
    await write;
    expect(stood).toBe(1);
    expect(state.writes.size).toBe(0);
    await expect(store.stored('k')).resolves.toMatchObject({ value: 'v' });
  });

  it('writes nothing for a run that began before the key was dropped', async () => {
    const { map, store, set, state } = setup();
    const generation = state.generation;
    state.generation++;
    let stood = 0;
    await store.write('k', state, generation, set('old'), () => stood++);
    expect(stood).toBe(0);
    expect(map.size).toBe(0);
  });

  it('takes the write back when the key is dropped while the store writes', async () => {
    const { map, store, set, state } = setup();
    map.mode = 'hold';
    let stood = 0;
    const write = store.write('k', state, state.generation, set('old'), () => stood++);
    state.generation++; // a drop, whose own delete has already landed
    await release(map);
    await write;
    expect(stood).toBe(0);
    expect(map.deletes).toBe(1);
    expect(map.size).toBe(0);
  });

  it('runs no `stands` for a write the store refused, and counts the failure', async () => {
    const { map, store, set, state } = setup();
    map.mode = 'fail';
    let stood = 0;
    await store.write('k', state, state.generation, set('v'), () => stood++);
    expect(stood).toBe(0);
    expect(store.errors).toBe(1);
  });

  it('takes back a write that lands after its timeout, since a delete may have come first', async () => {
    jest.useFakeTimers();
    const { map, store, set, state } = setup();
    map.mode = 'hold';
    let stood = 0;
    const write = store.write('k', state, state.generation, set('late'), () => stood++);
    await jest.advanceTimersByTimeAsync(TIMEOUT);
    await write;
    expect(stood).toBe(0);
    expect(store.errors).toBe(1);
    await release(map); // the write lands now; its take-back follows
    await flushMicrotasks();
    expect(map.deletes).toBe(1);
    expect(map.size).toBe(0);
  });
});
