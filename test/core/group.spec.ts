import { describe, it, expect } from '@jest/globals';
import {
  Group,
  SingleflightArgumentError,
  SingleflightOptionsError,
  SingleflightReentryError,
  SingleflightThrownValueError,
} from '../../lib/index.js';
import { deferred, flushMicrotasks, rejectionOf, track } from '../support/deferred.js';

const ZERO_STATS = {
  calls: 0,
  flights: 0,
  joins: 0,
  errors: 0,
  timeouts: 0,
  aborts: 0,
  forgets: 0,
  size: 0,
};

describe('Group.do', () => {
  // Go: TestDo
  it('returns the value of the work (sync and async work)', async () => {
    const group = new Group();
    await expect(group.do('key', () => 'bar')).resolves.toBe('bar');
    await expect(group.do('key', async () => 'baz')).resolves.toBe('baz');
    expect(group.stats()).toEqual({ ...ZERO_STATS, calls: 2, flights: 2 });
  });

  it('always returns a promise, even for synchronous work', () => {
    const group = new Group();
    const result = group.do('key', () => 1);
    expect(result).toBeInstanceOf(Promise);
    return result;
  });

  // Go: TestDoErr
  it('rejects with the error of the work, unchanged', async () => {
    const group = new Group();
    const boom = new Error('boom');
    expect(await rejectionOf(group.do('key', () => Promise.reject(boom)))).toBe(boom);
    expect(group.stats()).toMatchObject({ calls: 1, flights: 1, errors: 1, size: 0 });
  });

  // Go: TestDoDupSuppress
  it('runs the work once for 1000 concurrent callers, who all get the same value', async () => {
    const group = new Group();
    const gate = deferred();
    const value = { user: 'ada' };
    let runs = 0;
    const work = async () => {
      runs++;
      await gate.promise;
      return value;
    };
    const calls = Array.from({ length: 1000 }, () => group.do('user:1', work));
    expect(runs).toBe(1);
    expect(group.stats()).toMatchObject({ calls: 1000, flights: 1, joins: 999, size: 1 });

    gate.resolve();
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    for (const result of results) expect(result).toBe(value);
    expect(group.stats()).toEqual({ ...ZERO_STATS, calls: 1000, flights: 1, joins: 999 });
  });

  it('gives plain joiners the very promise of the leader (nothing allocated per joiner)', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const leader = group.do('k', () => gate.promise);
    const joiners = Array.from({ length: 10 }, () => group.do('k', () => gate.promise));
    for (const joiner of joiners) expect(joiner).toBe(leader);
    gate.resolve('v');
    await expect(leader).resolves.toBe('v');
  });

  it('keeps different keys apart', async () => {
    const group = new Group();
    const a = deferred<string>();
    const b = deferred<string>();
    const pa = group.do('a', () => a.promise);
    const pb = group.do('b', () => b.promise);
    expect(pa).not.toBe(pb);
    expect(group.stats()).toMatchObject({ flights: 2, joins: 0, size: 2 });
    b.resolve('B');
    a.resolve('A');
    await expect(Promise.all([pa, pb])).resolves.toEqual(['A', 'B']);
  });

  it('starts a new flight for a caller that comes after the flight settled', async () => {
    const group = new Group();
    let runs = 0;
    await group.do('k', async () => ++runs);
    await expect(group.do('k', async () => ++runs)).resolves.toBe(2);
    expect(runs).toBe(2);
  });

  it('runs the work of the leader, not of a joiner', async () => {
    const group = new Group();
    const gate = deferred();
    const leaderWork = async () => {
      await gate.promise;
      return 'leader';
    };
    let joinerRan = false;
    const p1 = group.do('k', leaderWork);
    const p2 = group.do('k', async () => {
      joinerRan = true;
      return 'joiner';
    });
    gate.resolve();
    await expect(Promise.all([p1, p2])).resolves.toEqual(['leader', 'leader']);
    expect(joinerRan).toBe(false);
  });
});

describe('Group: errors of the work', () => {
  it.each([
    [
      'own `then` throws',
      'then',
      {
        value: () => {
          throw new Error('hostile');
        },
      },
    ],
    [
      '`constructor` throws',
      'constructor',
      {
        get: () => {
          throw new Error('hostile');
        },
      },
    ],
  ] as const)(
    'frees the key when the work returns a promise whose %s',
    async (_, name, property) => {
      const group = new Group();
      const hostile = Promise.resolve(1);
      Object.defineProperty(hostile, name, property);
      expect(((await rejectionOf(group.do('k', () => hostile))) as Error).message).toBe('hostile');
      expect(group.stats()).toMatchObject({ flights: 1, errors: 1, size: 0 });
      await expect(group.do('k', async () => 2)).resolves.toBe(2);
    },
  );

  it('frees the key when reading the length of a work that can be abandoned throws (a Proxy)', async () => {
    const group = new Group();
    const hostile = new Proxy(() => 1, {
      get: (target, name) => {
        if (name === 'length') throw new Error('hostile');
        return Reflect.get(target, name) as unknown;
      },
    });
    const call = group.do('k', hostile, { timeout: 60_000 });
    expect(((await rejectionOf(call)) as Error).message).toBe('hostile');
    expect(group.stats()).toMatchObject({ flights: 1, errors: 1, size: 0 });
    await expect(group.do('k', async () => 2)).resolves.toBe(2);
  });

  it('delivers an async rejection to every waiter as the same error', async () => {
    const group = new Group();
    const gate = deferred<never>();
    const calls = Array.from({ length: 10 }, () => group.do('k', () => gate.promise));
    const boom = new Error('backend down');
    gate.reject(boom);
    const errors = await Promise.all(calls.map(rejectionOf));
    for (const error of errors) expect(error).toBe(boom);
    expect(group.stats()).toMatchObject({ flights: 1, joins: 9, errors: 1, size: 0 });
  });

  it('delivers an error thrown after an await to every waiter as the same error', async () => {
    const group = new Group();
    const gate = deferred();
    const boom = new Error('late');
    const work = async () => {
      await gate.promise;
      throw boom;
    };
    const calls = [group.do('k', work), group.do('k', work), group.do('k', work)];
    gate.resolve();
    for (const call of calls) expect(await rejectionOf(call)).toBe(boom);
  });

  // Go: TestPanicDo (a panic reaches the caller; here a synchronous throw becomes a rejection)
  it('turns a synchronous throw into a rejection, not an exception of do()', async () => {
    const group = new Group();
    const boom = new Error('sync');
    let call!: Promise<unknown>;
    expect(() => {
      call = group.do('k', () => {
        throw boom;
      });
    }).not.toThrow();
    expect(await rejectionOf(call)).toBe(boom);
    expect(group.stats()).toMatchObject({ flights: 1, errors: 1, size: 0 });
  });

  it('never leaves a key poisoned after a synchronous throw', async () => {
    const group = new Group();
    let runs = 0;
    const failing = group.do('k', () => {
      runs++;
      throw new Error('sync');
    });
    expect(group.stats().size).toBe(0); // released at once, before any await
    const next = group.do('k', () => {
      runs++;
      return 'ok';
    });
    expect(runs).toBe(2);
    await expect(failing).rejects.toThrow('sync');
    await expect(next).resolves.toBe('ok');
  });

  it.each([
    ['a string', 'plain string'],
    ['a number', 42],
    ['undefined', undefined],
    ['a plain object', { code: 'E_DOWN' }],
  ])(
    'wraps %s thrown synchronously in SingleflightThrownValueError (cause = the value)',
    async (_, thrown) => {
      const group = new Group();
      const error = await rejectionOf(
        group.do('user:7', () => {
          throw thrown;
        }),
      );
      expect(error).toBeInstanceOf(SingleflightThrownValueError);
      expect(error).toBeInstanceOf(Error);
      const wrapped = error as SingleflightThrownValueError;
      expect(wrapped.cause).toBe(thrown);
      expect(wrapped.key).toBe('user:7');
      expect(wrapped.name).toBe('SingleflightThrownValueError');
      expect(wrapped.message).toContain('"user:7"');
      expect(wrapped.message).toContain('cause');
    },
  );

  it('wraps a non-Error rejection once, and every waiter gets the same wrapper', async () => {
    const group = new Group();
    const gate = deferred<never>();
    const thrown = { code: 'E_DOWN' };
    const calls = Array.from({ length: 5 }, () => group.do('k', () => gate.promise));
    gate.reject(thrown);
    const errors = await Promise.all(calls.map(rejectionOf));
    expect(errors[0]).toBeInstanceOf(SingleflightThrownValueError);
    expect((errors[0] as Error).cause).toBe(thrown);
    for (const error of errors) expect(error).toBe(errors[0]);
  });

  it('passes Error subclasses through unchanged', async () => {
    const group = new Group();
    class NotFound extends Error {}
    const notFound = new NotFound('nope');
    const error = await rejectionOf(group.do('k', async () => Promise.reject(notFound)));
    expect(error).toBe(notFound);
  });
});

describe('Group: the key is released before waiters are settled', () => {
  it('a new call from inside a waiter’s .then starts a new flight', async () => {
    const group = new Group();
    const gate = deferred<string>();
    let runs = 0;
    const work = () => {
      runs++;
      return gate.promise;
    };
    let retry: Promise<string> | undefined;
    let sizeInThen = -1;
    const first = group.do('k', work).then((value) => {
      sizeInThen = group.stats().size;
      retry = group.do('k', async () => {
        runs++;
        return 'second';
      });
      return value;
    });
    const joiner = group.do('k', work);
    gate.resolve('first');
    await expect(first).resolves.toBe('first');
    await expect(joiner).resolves.toBe('first');
    expect(sizeInThen).toBe(0);
    expect(runs).toBe(2);
    await expect(retry).resolves.toBe('second');
  });

  it('a retry from inside a waiter’s .catch starts a new flight', async () => {
    const group = new Group();
    const gate = deferred<string>();
    let runs = 0;
    const retried = group
      .do('k', () => {
        runs++;
        return gate.promise;
      })
      .catch(() =>
        group.do('k', () => {
          runs++;
          return 'recovered';
        }),
      );
    gate.reject(new Error('first failed'));
    await expect(retried).resolves.toBe('recovered');
    expect(runs).toBe(2);
  });

  it('a joiner’s immediate retry also starts a new flight, which later joiners share', async () => {
    const group = new Group();
    const gate = deferred<number>();
    let runs = 0;
    const work = () => {
      runs++;
      return runs === 1 ? gate.promise : Promise.resolve(runs);
    };
    group.do('k', work);
    const retries = Array.from({ length: 3 }, () =>
      group.do('k', work).then(() => group.do('k', work)),
    );
    gate.resolve(1);
    await expect(Promise.all(retries)).resolves.toEqual([2, 2, 2]);
    expect(runs).toBe(2);
  });
});

describe('Group.doResult', () => {
  it('resolves { value, error: undefined, shared: false } for a lone caller', async () => {
    const group = new Group();
    await expect(group.doResult('k', async () => 'v')).resolves.toEqual({
      value: 'v',
      error: undefined,
      shared: false,
    });
  });

  it('marks every caller shared (leader included) when the outcome went to more than one', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const results = Array.from({ length: 3 }, () => group.doResult('k', () => gate.promise));
    gate.resolve('v');
    for (const result of await Promise.all(results)) {
      expect(result).toEqual({ value: 'v', error: undefined, shared: true });
    }
  });

  it('counts joiners of any kind: a doResult leader with a do joiner is shared', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const leader = group.doResult('k', () => gate.promise);
    const joiner = group.do('k', () => gate.promise);
    gate.resolve('v');
    await expect(leader).resolves.toEqual({ value: 'v', error: undefined, shared: true });
    await expect(joiner).resolves.toBe('v');
  });

  it('never rejects: a failure resolves to { value: undefined, error }', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const boom = new Error('boom');
    const a = group.doResult('k', () => gate.promise);
    const b = group.doResult('k', () => gate.promise);
    gate.reject(boom);
    await expect(a).resolves.toEqual({ value: undefined, error: boom, shared: true });
    await expect(b).resolves.toEqual({ value: undefined, error: boom, shared: true });
    await expect(
      group.doResult('k', () => {
        throw boom;
      }),
    ).resolves.toEqual({ value: undefined, error: boom, shared: false });
  });

  it('resolves a bad key to { error: SingleflightArgumentError } instead of rejecting', async () => {
    const group = new Group();
    const result = await group.doResult(123 as unknown as string, () => 'v');
    expect(result.value).toBeUndefined();
    expect(result.shared).toBe(false);
    expect(result.error).toBeInstanceOf(SingleflightArgumentError);
    const fn = await group.doResult('k', 'not a function' as unknown as () => string);
    expect(fn.error).toBeInstanceOf(SingleflightArgumentError);
    const options = await group.doResult('k', () => 'v', { retries: 3 } as never);
    expect(options.error).toBeInstanceOf(SingleflightOptionsError);
    expect(group.stats().size).toBe(0);
  });
});

describe('Group.forget', () => {
  // Go: TestForget
  it('makes later callers start a new flight; callers already joined get the old outcome', async () => {
    const group = new Group();
    const first = deferred<string>();
    const second = deferred<string>();
    let runs = 0;
    const p1 = group.do('k', () => (runs++, first.promise));
    const p1b = group.do('k', () => (runs++, first.promise)); // joined before forget
    group.forget('k');
    expect(group.stats().size).toBe(0);
    const p2 = group.do('k', () => (runs++, second.promise));
    const p3 = group.do('k', () => (runs++, second.promise));
    expect(runs).toBe(2);
    expect(p3).toBe(p2);
    expect(p2).not.toBe(p1);

    // The old flight settles: it must not remove the new one.
    first.resolve('old');
    await expect(p1).resolves.toBe('old');
    await expect(p1b).resolves.toBe('old');
    expect(group.stats().size).toBe(1);
    const p4 = group.do('k', () => (runs++, second.promise));
    expect(p4).toBe(p2); // joined the new flight
    expect(runs).toBe(2);

    second.resolve('new');
    await expect(Promise.all([p2, p3, p4])).resolves.toEqual(['new', 'new', 'new']);
    expect(group.stats()).toEqual({ ...ZERO_STATS, calls: 5, flights: 2, joins: 3, forgets: 1 });
  });

  it('does not let an old failed flight remove the new one either', async () => {
    const group = new Group();
    const first = deferred<string>();
    const second = deferred<string>();
    const p1 = group.do('k', () => first.promise);
    group.forget('k');
    const p2 = group.do('k', () => second.promise);
    first.reject(new Error('old failed'));
    await expect(p1).rejects.toThrow('old failed');
    expect(group.stats().size).toBe(1);
    expect(group.do('k', () => 'unused')).toBe(p2);
    second.resolve('new');
    await expect(p2).resolves.toBe('new');
    expect(group.stats().size).toBe(0);
  });

  it('counts only forgets that removed a flight', async () => {
    const group = new Group();
    group.forget('nothing');
    const gate = deferred();
    const p = group.do('k', () => gate.promise);
    group.forget('k');
    group.forget('k');
    expect(group.stats().forgets).toBe(1);
    gate.resolve();
    await p;
    group.forget('k');
    expect(group.stats().forgets).toBe(1);
  });

  it('can be called from inside the work (the flight still delivers to its callers)', async () => {
    const group = new Group();
    let runs = 0;
    const gate = deferred();
    const p1 = group.do('k', async () => {
      runs++;
      group.forget('k');
      await gate.promise;
      return 'old';
    });
    const p2 = group.do('k', async () => ++runs);
    expect(runs).toBe(2);
    gate.resolve();
    await expect(p1).resolves.toBe('old');
    await expect(p2).resolves.toBe(2);
  });
});

describe('Group: re-entry', () => {
  it('rejects a synchronous re-entry of the same key with SingleflightReentryError (no deadlock)', async () => {
    const group = new Group();
    let inner!: Promise<string>;
    const outer = group.do('k', () => {
      inner = group.do('k', () => 'inner');
      return 'outer';
    });
    await expect(outer).resolves.toBe('outer');
    const error = await rejectionOf(inner);
    expect(error).toBeInstanceOf(SingleflightReentryError);
    expect((error as SingleflightReentryError).key).toBe('k');
    expect((error as Error).message).toContain('"k"');
    expect((error as Error).message).toContain('different key');
    expect(group.stats().size).toBe(0);
  });

  it('fails the flight when the work returns its own re-entrant call', async () => {
    const group = new Group();
    const outer = group.do('k', (): Promise<string> => group.do('k', async () => 'never'));
    expect(await rejectionOf(outer)).toBeInstanceOf(SingleflightReentryError);
    expect(group.stats().size).toBe(0);
  });

  it('detects re-entry through a chain of other keys', async () => {
    const group = new Group();
    const outer = group.do('a', () => group.do('b', () => group.do('a', async () => 'x')));
    expect(await rejectionOf(outer)).toBeInstanceOf(SingleflightReentryError);
  });

  it('allows nested calls of different keys', async () => {
    const group = new Group();
    const result = await group.do('a', () =>
      group.do('b', async () => {
        const c = await group.do('c', async () => 'c');
        return `b${c}`;
      }),
    );
    expect(result).toBe('bc');
    expect(group.stats()).toMatchObject({ flights: 3, size: 0 });
  });

  it('lets an outside caller join a flight whose work is nested in another running flight', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const b = group.do('b', () => gate.promise);
    const a = group.do('a', () => group.do('b', () => gate.promise)); // joins b: nested, fine
    const outside = group.do('b', () => gate.promise);
    expect(outside).toBe(b);
    gate.resolve('v');
    await expect(Promise.all([a, b, outside])).resolves.toEqual(['v', 'v', 'v']);
  });

  it('with detectAsyncReentry, fails fast on a re-entry after an await', async () => {
    const group = new Group({ detectAsyncReentry: true });
    const outer = group.do('k', async (): Promise<string> => {
      await Promise.resolve();
      return group.do('k', async () => 'never');
    });
    const error = await rejectionOf(outer);
    expect(error).toBeInstanceOf(SingleflightReentryError);
    expect(group.stats().size).toBe(0);
  });

  it('with detectAsyncReentry, allows nested different keys after awaits', async () => {
    const group = new Group({ detectAsyncReentry: true });
    const result = await group.do('a', async () => {
      await Promise.resolve();
      const b = await group.do('b', async () => {
        await Promise.resolve();
        return group.do('c', async () => 'c');
      });
      return `a${b}`;
    });
    expect(result).toBe('ac');
  });

  it('with detectAsyncReentry, an outside caller can still join a flight that started a nested one', async () => {
    const group = new Group({ detectAsyncReentry: true });
    const gate = deferred();
    const a = group.do('a', async () => {
      await Promise.resolve();
      const b = await group.do('b', async () => 'b');
      await gate.promise;
      return `a${b}`;
    });
    await flushMicrotasks();
    // Called from outside any flight: this is a plain join, not a re-entry.
    const joiner = group.do('a', async () => 'unused');
    expect(joiner).toBe(a);
    gate.resolve();
    await expect(a).resolves.toBe('ab');
  });
});

describe('Group: bad input', () => {
  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an object', { id: 1 }],
    ['a symbol', Symbol('k')],
  ])('rejects a key that is %s with SingleflightArgumentError (a TypeError)', async (_, key) => {
    const group = new Group();
    let runs = 0;
    let call!: Promise<unknown>;
    expect(() => {
      call = group.do(key as unknown as string, () => ++runs);
    }).not.toThrow();
    const error = await rejectionOf(call);
    expect(error).toBeInstanceOf(SingleflightArgumentError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).name).toBe('SingleflightArgumentError');
    expect((error as Error).message).toContain('must be a string');
    expect((error as Error).message).toContain('template string');
    expect(runs).toBe(0);
    expect(group.stats()).toEqual(ZERO_STATS);
  });

  it.each([
    ['undefined', undefined],
    ['a string', 'doWork'],
    ['a promise', Promise.resolve(1)],
  ])('rejects work that is %s with SingleflightArgumentError', async (_, fn) => {
    const group = new Group();
    const error = await rejectionOf(group.do('user:1', fn as unknown as () => number));
    expect(error).toBeInstanceOf(SingleflightArgumentError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('"user:1"');
    expect((error as Error).message).toContain('must be a function');
    expect((error as Error).message).toContain('() => doTheWork()');
    expect(group.stats()).toMatchObject({ flights: 0, size: 0 });
  });

  it.each([
    ['an unknown option', { forgetAfterMs: 10 }, 'Unknown option "forgetAfterMs"'],
    ['a negative forgetAfter', { forgetAfter: -1 }, 'finite number of milliseconds >= 0'],
    ['a NaN forgetAfter', { forgetAfter: Number.NaN }, 'finite number of milliseconds >= 0'],
    ['an infinite forgetAfter', { forgetAfter: Infinity }, 'finite number of milliseconds >= 0'],
    ['a string forgetAfter', { forgetAfter: '10' }, 'finite number of milliseconds >= 0'],
    ['a non-boolean shareErrors', { shareErrors: 'no' }, 'true or false'],
    ['a non-boolean detectAsyncReentry', { detectAsyncReentry: 1 }, 'true or false'],
    ['options that are not an object', 'fast', 'must be an object'],
  ])(
    'throws SingleflightOptionsError (a RangeError) at construction for %s',
    (_, options, text) => {
      let error: unknown;
      try {
        new Group(options as never);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(SingleflightOptionsError);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).name).toBe('SingleflightOptionsError');
      expect((error as Error).message).toContain('Group options');
      expect((error as Error).message).toContain(text);
    },
  );

  it('names the allowed options when one is unknown', () => {
    expect(() => new Group({ ttl: 5 } as never)).toThrow(
      'Allowed: forgetAfter, shareErrors, detectAsyncReentry',
    );
  });

  it('accepts valid options and undefined values', () => {
    expect(
      () => new Group({ forgetAfter: 0, shareErrors: false, detectAsyncReentry: false }),
    ).not.toThrow();
    expect(() => new Group({ forgetAfter: undefined })).not.toThrow();
    expect(() => new Group(undefined)).not.toThrow();
  });

  it.each([
    ['an unknown option', { timeoutMs: 10 }, 'Unknown option "timeoutMs" in call options'],
    ['a negative timeout', { timeout: -5 }, 'finite number of milliseconds >= 0'],
    ['a string timeout', { timeout: '5' }, 'finite number of milliseconds >= 0'],
    ['a signal that is not an AbortSignal', { signal: {} }, 'an AbortSignal'],
  ])('rejects a call with %s with SingleflightOptionsError', async (_, options, text) => {
    const group = new Group();
    let runs = 0;
    const error = await rejectionOf(group.do('k', () => ++runs, options as never));
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain(text);
    expect(runs).toBe(0);
    expect(group.stats()).toMatchObject({ flights: 0, size: 0 });
  });

  it('does not let a bad call disturb a flight in progress', async () => {
    const group = new Group();
    const gate = deferred<string>();
    const p = group.do('k', () => gate.promise);
    await expect(group.do('k', () => 'x', { timeout: -1 })).rejects.toBeInstanceOf(
      SingleflightOptionsError,
    );
    expect(group.stats()).toMatchObject({ size: 1, joins: 0 });
    gate.resolve('v');
    await expect(p).resolves.toBe('v');
  });
});

describe('Group.stats', () => {
  it('starts at zero and returns a fresh snapshot each time', () => {
    const group = new Group();
    const before = group.stats();
    expect(before).toEqual(ZERO_STATS);
    void group.do('k', () => 1);
    expect(before).toEqual(ZERO_STATS);
    expect(group.stats()).not.toBe(group.stats());
  });

  it('counts every call, also one refused before any flight: a re-entry, bad work, an aborted signal', async () => {
    const group = new Group();
    let inner!: Promise<number>;
    await group.do('k', () => {
      inner = group.do('k', () => 1);
      return 1;
    });
    expect(await rejectionOf(inner)).toBeInstanceOf(SingleflightReentryError);
    expect(await rejectionOf(group.do('x', 42 as never))).toBeInstanceOf(SingleflightArgumentError);
    await rejectionOf(group.do('y', () => 1, { signal: AbortSignal.abort() }));
    expect(group.stats()).toEqual({ ...ZERO_STATS, calls: 4, flights: 1, aborts: 1 });
  });

  it('tracks a settled flight (track helper sanity)', async () => {
    const group = new Group();
    const gate = deferred<number>();
    const watched = track(group.do('k', () => gate.promise));
    await flushMicrotasks();
    expect(watched.state.status).toBe('pending');
    gate.resolve(1);
    await flushMicrotasks();
    expect(watched.state).toEqual({ status: 'fulfilled', value: 1 });
  });
});
