import { describe, expect, it, jest } from '@jest/globals';
import { Group, SingleflightOptionsError, WriteGroup } from '../../lib/index.js';
import { rejectionOf } from '../support/deferred.js';

// Every option of the core engines and of their calls is checked, with a SingleflightOptionsError
// that names the option, where it was given, and what it must be. The common cases are in
// group.spec.ts and write-group.spec.ts; these are the ones that slipped through.

function optionsError(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    return error as Error;
  }
  throw new Error('expected a SingleflightOptionsError, but nothing was thrown');
}

describe('retry: its own fields are checked like options', () => {
  it.each([
    [
      'an unknown field',
      { attempts: 3, backof: 100 },
      /Unknown option "backof" in "retry" of WriteGroup options\. Allowed: attempts, backoffMs/,
    ],
    ['no attempts', {}, /"retry" in WriteGroup options must be .*attempts given, got \{\}/],
    ['attempts as a string', { attempts: '3' }, /"attempts" in "retry" of .* integer >= 1/],
    [
      'backoffMs as a string',
      { attempts: 3, backoffMs: '100' },
      /"backoffMs" in "retry" of WriteGroup options must be a number of milliseconds from 0 to 2147483647.*got "100"/,
    ],
    ['retry as an array', [3], /"retry" in WriteGroup options must be/],
    ['retry as null', null, /"retry" in WriteGroup options must be/],
  ])('new WriteGroup refuses %s', (_, retry, message) => {
    expect(optionsError(() => new WriteGroup({ retry } as never)).message).toMatch(message);
  });

  it('WriteGroup.do refuses a retry with an unknown field, without running', async () => {
    const writes = new WriteGroup();
    const fn = jest.fn(async () => 1);
    const error = await rejectionOf(
      writes.do('k', fn, { retry: { attempts: 2, delay: 5 } as never }),
    );
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect((error as Error).message).toMatch(
      /Unknown option "delay" in "retry" of MergeWrites call options/,
    );
    expect(fn).not.toHaveBeenCalled();
    expect(writes.stats()).toMatchObject({ calls: 0, runs: 0, size: 0 });
  });

  it('shows an object value by its fields, not as [object Object]', () => {
    const message = optionsError(
      () => new WriteGroup({ retry: { backoffMs: 5 } } as never),
    ).message;
    expect(message).toContain('got { backoffMs: 5 }');
  });
});

describe('call options that are not an object', () => {
  it.each([
    ['null', null],
    ['a number', 5],
    ['an array', [{ timeout: 5 }]],
  ])('Group.do and doResult refuse %s, without running', async (_, options) => {
    const group = new Group();
    const fn = jest.fn(async () => 1);
    const bad = options as never;
    expect(await rejectionOf(group.do('k', fn, bad))).toBeInstanceOf(SingleflightOptionsError);
    expect((await group.doResult('k', fn, bad)).error).toBeInstanceOf(SingleflightOptionsError);
    expect(fn).not.toHaveBeenCalled();
    expect(group.stats()).toMatchObject({ flights: 0, size: 0 });
  });

  it('WriteGroup.do refuses null and an array', async () => {
    const writes = new WriteGroup();
    for (const options of [null, [1]]) {
      const error = await rejectionOf(writes.do('k', async () => 1, options as never));
      expect(error).toBeInstanceOf(SingleflightOptionsError);
    }
    expect(writes.stats()).toMatchObject({ calls: 0, size: 0 });
  });
});

describe('Group: call options, each bad value', () => {
  it.each([
    ['forgetAfter', -1, 'finite number of milliseconds >= 0'],
    ['forgetAfter', '10', 'finite number of milliseconds >= 0'],
    ['shareErrors', 'no', 'true or false'],
    ['timeout', Number.NaN, 'finite number of milliseconds >= 0'],
    ['timeout', 2 ** 31, 'at most 2147483647'],
    ['signal', new AbortController(), 'an AbortSignal'],
  ])('refuses %s: %p', async (name, value, text) => {
    const group = new Group();
    const error = await rejectionOf(group.do('k', async () => 1, { [name]: value } as never));
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect((error as Error).message).toContain(`Option "${name}" in call options`);
    expect((error as Error).message).toContain(text);
  });
});
