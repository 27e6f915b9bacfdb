import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  Group,
  SingleflightAbortError,
  SingleflightOptionsError,
  SingleflightTimeoutError,
  WriteGroup,
} from '../../lib/core/index.js';
import { deferred, rejectionOf } from '../support/deferred.js';

describe('Group: call options that change or throw as they are read', () => {
  it('a getter that throws rejects only that call; the flight in progress goes on', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const leader = group.do('k', () => gate.promise);
    const hostile = {
      get timeout(): number {
        throw new Error('hostile getter');
      },
    };
    expect(((await rejectionOf(group.do('k', () => 'x', hostile))) as Error).message).toBe(
      'hostile getter',
    );
    expect(group.stats()).toMatchObject({ size: 1, joins: 0 });
    gate.resolve('v');
    await expect(leader).resolves.toBe('v');
    expect(group.stats().size).toBe(0);
  });

  it('a Proxy whose ownKeys trap throws rejects that call and takes no key', async () => {
    const group = new Group();
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('hostile trap');
        },
      },
    );
    let runs = 0;
    expect(((await rejectionOf(group.do('k', () => ++runs, hostile))) as Error).message).toBe(
      'hostile trap',
    );
    expect(runs).toBe(0);
    await expect(group.do('k', async () => 'next')).resolves.toBe('next');
  });
});

describe('Group: call options whose getters answer differently on each read', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('the timeout used is the one checked: a second read of 2^40 is never used', async () => {
    jest.useFakeTimers();
    const group = new Group();
    let reads = 0;
    const shifty = {
      get timeout(): number {
        return reads++ === 0 ? 10 : 2 ** 40;
      },
    };
    let settled: unknown = 'pending';
    group
      .do('k', () => new Promise<never>(() => undefined), shifty)
      .then(
        () => (settled = 'resolved'),
        (error: unknown) => (settled = error),
      );
    // A timer of 2^40 ms fires after 1 ms in Node: the caller would time out at once.
    await jest.advanceTimersByTimeAsync(9);
    expect(settled).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(settled).toBeInstanceOf(SingleflightTimeoutError);
    expect(reads).toBe(1);
  });

  it('a getter that starts a flight of the same key: the call joins it, one run for both', async () => {
    const group = new Group();
    const gate = deferred<string>();
    let runs = 0;
    const work = () => {
      runs++;
      return gate.promise;
    };
    let inner: Promise<string> | undefined;
    const starting = {
      get timeout(): number {
        inner ??= group.do('k', work);
        return 1000;
      },
    };
    const outer = group.do('k', work, starting);
    expect(runs).toBe(1);
    expect(group.stats()).toMatchObject({ flights: 1, joins: 1, size: 1 });
    gate.resolve('v');
    await expect(outer).resolves.toBe('v');
    await expect(inner).resolves.toBe('v');
  });

  it('a WriteGroup call uses the retry it checked: one try, not the three of a second read', async () => {
    const writes = new WriteGroup();
    let reads = 0;
    const shifty = {
      get retry() {
        return reads++ === 0 ? { attempts: 1 } : { attempts: 3, backoffMs: 0 };
      },
    };
    let tries = 0;
    const push = async () => {
      if (++tries === 1) throw new Error('first try fails');
      return 'pushed';
    };
    expect(((await rejectionOf(writes.do('k', push, shifty))) as Error).message).toBe(
      'first try fails',
    );
    expect(tries).toBe(1);
    expect(reads).toBe(1);
  });
});

describe('Group: a caller whose own signal aborts while the work starts', () => {
  it('the work aborting its only caller synchronously: that caller is rejected, the work told, the key freed', async () => {
    const group = new Group();
    const controller = new AbortController();
    let workSignal: AbortSignal | undefined;
    const call = group.do(
      'k',
      (signal) => {
        workSignal = signal;
        controller.abort('during start');
        return new Promise<string>(() => undefined);
      },
      { signal: controller.signal },
    );
    const error = await rejectionOf(call);
    expect(error).toBeInstanceOf(SingleflightAbortError);
    expect((error as Error).cause).toBe('during start');
    expect(workSignal!.aborted).toBe(true);
    expect(group.stats().size).toBe(0);
    await expect(group.do('k', async () => 'next')).resolves.toBe('next');
  });
});

describe("Group: keys named like Object's properties", () => {
  it.each([
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '__proto__:x',
    'Object.prototype:__proto__',
  ])('keeps %s a key like any other: its own flight, forget() and stats', async (key) => {
    const group = new Group();
    const gate = deferred<string>();
    const first = group.do(key, () => gate.promise);
    const joined = group.do(key, () => 'never');
    const other = group.do(`${key}!`, async () => 'other');
    expect(group.stats()).toMatchObject({ flights: 2, joins: 1 });
    group.forget(key);
    const after = group.do(key, async () => 'after forget');
    gate.resolve('first');
    expect(await Promise.all([first, joined, other, after])).toEqual([
      'first',
      'first',
      'other',
      'after forget',
    ]);
    expect(group.stats().size).toBe(0);
  });
});

describe('Group: a bad option never takes a key', () => {
  it.each([
    ['Infinity', Infinity],
    ['NaN', Number.NaN],
    ['2^31', 2 ** 31],
    ['-1', -1],
    ['"10"', '10'],
  ])(
    'a call timeout of %s is refused with a named error before any work runs',
    async (_, timeout) => {
      const group = new Group();
      let runs = 0;
      const error = await rejectionOf(group.do('k', () => ++runs, { timeout: timeout as number }));
      expect(error).toBeInstanceOf(SingleflightOptionsError);
      expect((error as Error).message).toContain('"timeout"');
      expect(runs).toBe(0);
      expect(group.stats().size).toBe(0);
    },
  );
});

/** Options as a class makes them: the values come from getters on its prototype. */
class Settings {
  constructor(private readonly values: Record<string, unknown>) {}
  get timeout(): unknown {
    return this.values.timeout;
  }
  get forgetAfter(): unknown {
    return this.values.forgetAfter;
  }
}

describe('Group: options whose values come from getters on their prototype', () => {
  it.each([
    ['a timeout of 2^40', { timeout: 2 ** 40 }, '"timeout"'],
    ['a timeout of NaN', { timeout: Number.NaN }, '"timeout"'],
    ['a forgetAfter that is a string', { forgetAfter: '10' }, '"forgetAfter"'],
  ])('are checked like own ones: %s is refused before any work runs', async (_, values, name) => {
    const group = new Group();
    let runs = 0;
    const options = Object.assign(new Settings(values), {});
    // Only what the getters give: the class's own field is not an option.
    Object.defineProperty(options, 'values', { enumerable: false });
    const error = await rejectionOf(group.do('k', () => ++runs, options as never));
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect((error as Error).message).toContain(name);
    expect(runs).toBe(0);
  });

  it('a getter that gives a good value works as the option', async () => {
    const group = new Group();
    const options = new Settings({ timeout: 60_000 });
    Object.defineProperty(options, 'values', { enumerable: false });
    await expect(group.do('k', async () => 'v', options as never)).resolves.toBe('v');
  });
});
