import { describe, expect, it } from '@jest/globals';
import { createCache } from 'cache-manager';
import fc from 'fast-check';
import { Keyv } from 'keyv';
import { KEYS_IN_PROGRESS } from '../../lib/cache/flight-cache.js';
import {
  FlightCache,
  type FlightCacheOptions,
  Group,
  SingleflightOptionsError,
} from '../../lib/index.js';
import { type Deferred, deferred, flushMicrotasks, track } from '../support/deferred.js';
import { until } from '../support/until.js';
import { storeKey } from '../../lib/cache/store-key.js';

const macrotask = () => new Promise((resolve) => setImmediate(resolve));

/** A Keyv store whose every operation answers on a later macrotask, as a network store does. */
class LaterMap extends Map<string, unknown> {
  override get(key: string) {
    return macrotask().then(() => super.get(key)) as never;
  }
  override set(key: string, value: unknown) {
    return macrotask().then(() => super.set(key, value)) as never;
  }
  override delete(key: string) {
    return macrotask().then(() => super.delete(key)) as never;
  }
}

/** A LaterMap that holds one entry: a store that evicts, so later stores answer and copy back. */
class EvictingMap extends LaterMap {
  override set(key: string, value: unknown) {
    return macrotask().then(() => {
      Map.prototype.clear.call(this);
      return Map.prototype.set.call(this, key, value);
    }) as never;
  }
}

type Command =
  | { kind: 'call' | 'invalidate' | 'forget'; key: number; wait: number }
  | { kind: 'settle'; index: number; wait: number };

const KEYS = ['a', 'b'];
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('call' as const, 'invalidate' as const, 'forget' as const),
    key: fc.nat(KEYS.length - 1),
    wait: fc.nat(4),
  }),
  fc.record({ kind: fc.constant('settle' as const), index: fc.nat(), wait: fc.nat(4) }),
);

/** What a value remembers: when its work started, on the test's logical clock. */
interface Value {
  key: string;
  startedAt: number;
}

/**
 * Runs the commands against a Group and a FlightCache linked to it, called as a decorated method
 * calls them (the local mirror first, then the flight). `wait` after each: 0 goes on at once, 1 to
 * 3 let that many rounds of promise reactions run, 4 lets a macrotask pass.
 */
async function run(commands: Command[], makeCache: () => FlightCache, group: Group) {
  const cache = makeCache();
  const policy = { ttl: 60_000 };
  let clock = 0;
  let works = 0;
  const pending: Deferred<void>[] = [];
  /** When a value's key was last cut off (forget returned, invalidate resolved), by key. */
  const cuts: { key: string; at: number }[] = [];
  const calls: { key: string; calledAt: number; outcome: Promise<Value> }[] = [];
  const call = (key: string) => {
    const calledAt = ++clock;
    const work = async (): Promise<Value> => {
      works++;
      const startedAt = ++clock;
      const gate = deferred<void>();
      pending.push(gate);
      await gate.promise;
      return { key, startedAt };
    };
    const outcome = (cache.peek(key) ??
      group.do(key, () => cache.load(key, work, policy))) as Promise<Value>;
    calls.push({ key, calledAt, outcome });
    return outcome;
  };
  const waits: Promise<void>[] = [];
  for (const c of commands) {
    if (c.kind === 'settle') {
      if (pending.length > 0) pending.splice(c.index % pending.length, 1)[0]!.resolve();
    } else if (c.kind === 'call') {
      void call(KEYS[c.key]!);
    } else if (c.kind === 'forget') {
      group.forget(KEYS[c.key]!);
      cuts.push({ key: KEYS[c.key]!, at: ++clock });
    } else {
      const key = KEYS[c.key]!;
      waits.push(cache.invalidate(key).then(() => void cuts.push({ key, at: ++clock })));
    }
    if (c.wait === 4) await macrotask();
    else await flushMicrotasks(c.wait);
  }
  while (pending.length > 0 || cache[KEYS_IN_PROGRESS] > 0) {
    for (const gate of pending.splice(0)) gate.resolve();
    await macrotask();
  }
  await Promise.all(waits);
  for (const { key, calledAt, outcome } of calls) {
    const value = await outcome;
    const cut = Math.max(
      0,
      ...cuts.filter((c) => c.key === key && c.at < calledAt).map((c) => c.at),
    );
    // No caller gets a value whose work started before a cut that came before its call.
    expect(value.key).toBe(key);
    expect(value.startedAt).toBeGreaterThan(cut);
  }
  // Once all is quiet, the next flight's value is cached, and nothing is kept per key.
  for (const key of KEYS) {
    const next = track(call(key));
    while (next.state.status === 'pending') {
      for (const gate of pending.splice(0)) gate.resolve();
      await macrotask();
    }
    const value = await calls.at(-1)!.outcome;
    const before = works;
    await expect(call(key)).resolves.toEqual(value);
    expect(works).toBe(before);
  }
  await macrotask();
  expect(cache[KEYS_IN_PROGRESS]).toBe(0);
  expect(cache.stats().errors).toBe(0);
}

describe('FlightCache read-your-writes, as a property', () => {
  const stores: [string, (group: Group) => FlightCache][] = [
    [
      'the in-memory default with its mirror',
      (group) => new FlightCache(createCache(), { local: true, group }),
    ],
    [
      'a Keyv store that answers on a later macrotask',
      (group) =>
        new FlightCache(createCache({ stores: [new Keyv({ store: new LaterMap() })] }), { group }),
    ],
    [
      'two stores, the first evicting (one entry), with a mirror',
      (group) =>
        new FlightCache(
          createCache({
            stores: [new Keyv({ store: new EvictingMap() }), new Keyv({ store: new LaterMap() })],
          }),
          { local: true, group },
        ),
    ],
  ];
  it.each(stores)(
    'with %s: no caller gets a value whose work started before a forget or invalidate before its call',
    async (_, makeCache) => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 30 }), async (commands) => {
          const group = new Group();
          await run(commands, () => makeCache(group), group);
        }),
        { seed: 1313, numRuns: 200 },
      );
    },
  );
});

/** A Keyv store whose writes wait until the test opens the gate. */
class GatedMap extends Map<string, unknown> {
  writes = 0;
  deletes = 0;
  readonly gate = deferred<void>();
  override set(key: string, value: unknown) {
    this.writes++;
    return this.gate.promise.then(() => super.set(key, value)) as never;
  }
  override delete(key: string) {
    this.deletes++;
    return super.delete(key);
  }
}

/** Stores `value` in `store` as a FlightCache writes it (in the codec's text, for a Keyv that serializes). */
async function seed(store: Keyv, key: string, value: unknown, ttl: number): Promise<void> {
  await new FlightCache(createCache({ stores: [store] })).load(key, () => value, { ttl });
}

describe('FlightCache over several stores (tiers)', () => {
  it('copies a value found in a later store to the earlier ones, until the same expiry', async () => {
    const near = new Keyv();
    const far = new Keyv();
    const flights = new FlightCache(createCache({ stores: [near, far] }));
    await seed(far, 'k', 'far value', 60_000);
    const expires = (await far.get(storeKey('k'), { raw: true }))!.expires!;
    let runs = 0;
    await expect(flights.load('k', () => ++runs, { ttl: 1000 })).resolves.toBe('far value');
    expect(runs).toBe(0);
    const copy = await near.get(storeKey('k'), { raw: true });
    await expect(new FlightCache(createCache({ stores: [near] })).stored('k')).resolves.toBe(
      'far value',
    );
    expect(copy!.expires! - expires).toBeGreaterThanOrEqual(0);
    expect(copy!.expires! - expires).toBeLessThan(1000);
  });

  it.each([
    ['', false],
    [', and keeps none in the local mirror', true],
  ])('takes the copy back when the key is invalidated while it is written%s', async (_, local) => {
    const gated = new GatedMap();
    const near = new Keyv({ store: gated });
    const far = new Keyv();
    const flights = new FlightCache(createCache({ stores: [near, far] }), { local });
    await seed(far, 'k', 'old', 60_000);
    const load = flights.load('k', () => 'new', { ttl: 1000 });
    await until(() => gated.writes === 1);
    const invalidated = flights.invalidate('k');
    gated.gate.resolve();
    await expect(load).resolves.toBe('old');
    await invalidated;
    await flushMicrotasks();
    expect(await near.get(storeKey('k'))).toBeUndefined();
    expect(await far.get(storeKey('k'))).toBeUndefined();
    // The hit a decorated method takes first must not answer the value invalidate() removed.
    expect(flights.peek('k')).toBeUndefined();
    expect(flights[KEYS_IN_PROGRESS]).toBe(0);
  });
});

describe('FlightCache and a store slower than its timeout', () => {
  it('takes back a write that lands after the timeout, since a delete may have come first', async () => {
    const gated = new GatedMap();
    const warnings: string[] = [];
    const flights = new FlightCache(createCache({ stores: [new Keyv({ store: gated })] }), {
      timeout: 20,
      logger: { warn: (message, error) => warnings.push(`${message} ${String(error)}`) },
    });
    // The write hangs: the call answers once the store timeout has passed.
    await expect(flights.load('k', () => 'old', { ttl: 60_000 })).resolves.toBe('old');
    expect(warnings.join()).toMatch(/no answer within 20 ms/);
    await flights.invalidate('k');
    gated.gate.resolve(); // the old write lands now, after the delete
    await until(() => gated.deletes === 2);
    expect(gated.has(`keyv:${storeKey('k')}`)).toBe(false);
  });
});

describe('FlightCache options, checked when it is made', () => {
  const cache = createCache();

  it.each([
    ['null', null],
    ['a Keyv instead of a cache', new Keyv()],
    ['a Map', new Map()],
    ['a cache without stores', { ...createCache(), stores: [] }],
    ['a cache whose store is not a Keyv', { ...createCache(), stores: [1] }],
  ])('refuses %s as the cache', (_, bad) => {
    expect(() => new FlightCache(bad as never)).toThrow(SingleflightOptionsError);
    expect(() => new FlightCache(bad as never)).toThrow(/FlightCache needs a cache-manager Cache/);
  });

  it.each<[string, unknown]>([
    ['local', 'yes'],
    ['timeout', -1],
    ['timeout', 0],
    ['timeout', NaN],
    ['timeout', '100'],
    ['timeout', 2 ** 31],
    ['logger', {}],
    ['logger', console.warn],
    ['group', {}],
    ['group', { forget: () => undefined }],
  ])('refuses %s: %p', (name, value) => {
    const make = () => new FlightCache(cache, { [name]: value } as FlightCacheOptions);
    expect(make).toThrow(SingleflightOptionsError);
    expect(make).toThrow(new RegExp(`Option "${name}" in FlightCache options must be`));
  });

  it('refuses an unknown option and options that are not an object', () => {
    expect(() => new FlightCache(cache, { ttl: 5 } as never)).toThrow(
      /Unknown option "ttl" in FlightCache options. Allowed: local, timeout, logger, group/,
    );
    expect(() => new FlightCache(cache, 'local' as never)).toThrow(SingleflightOptionsError);
  });

  it('takes the defaults, and a store timeout up to 2^31 - 1 ms', () => {
    expect(() => new FlightCache(cache)).not.toThrow();
    expect(
      () => new FlightCache(cache, { timeout: 2 ** 31 - 1, group: new Group() }),
    ).not.toThrow();
  });

  it('refuses a key that is not a string in load and invalidate', async () => {
    const flights = new FlightCache(cache);
    await expect(flights.load(1 as never, () => 1, { ttl: 10 })).rejects.toThrow(
      /key must be a string/,
    );
    await expect(flights.invalidate(undefined as never)).rejects.toThrow(/key must be a string/);
  });
});
