import { describe, expect, it } from '@jest/globals';
import type { CachePolicy } from '../../lib/cache/flight-cache.interfaces.js';
import { PolicyCheck } from '../../lib/cache/policy-check.js';

/** A logger that keeps what it is given. */
function logger() {
  const warnings: [string, unknown][] = [];
  return { warnings, warn: (message: string, error?: unknown) => warnings.push([message, error]) };
}

describe('PolicyCheck', () => {
  it('keeps a value for a positive ttl, however long, and not at all for 0 or less', () => {
    const log = logger();
    const check = new PolicyCheck(log);
    expect(check.ttlOf('k', 'v', { ttl: 1 })).toBe(1);
    expect(check.ttlOf('k', 'v', { ttl: 2 ** 31 })).toBe(2 ** 31);
    expect(check.ttlOf('k', 'v', { ttl: 0 })).toBeUndefined();
    expect(check.ttlOf('k', 'v', { ttl: -5 })).toBeUndefined();
    expect(check.ttlOf('k', 'v', { ttl: -Infinity })).toBeUndefined();
    expect(log.warnings).toEqual([]);
  });

  it('calls a ttl function with the value', () => {
    const check = new PolicyCheck(undefined);
    const policy: CachePolicy<{ ms: number }> = { ttl: (value) => value.ms };
    expect(check.ttlOf('k', { ms: 30 }, policy)).toBe(30);
    expect(check.ttlOf('k', { ms: 0 }, policy)).toBeUndefined();
  });

  it('keeps every value but undefined by default, and what shouldCache allows', () => {
    const check = new PolicyCheck(undefined);
    expect(check.ttlOf('k', undefined, { ttl: 10 })).toBeUndefined();
    expect(check.ttlOf('k', null, { ttl: 10 })).toBe(10);
    expect(check.ttlOf('k', 0, { ttl: 10 })).toBe(10);
    let asked = 0;
    const policy: CachePolicy<number> = {
      ttl: () => ++asked,
      shouldCache: (value) => value > 0,
    };
    expect(check.ttlOf('k', -1, policy)).toBeUndefined();
    expect(asked).toBe(0); // a value not kept is not asked its ttl
    expect(check.ttlOf('k', undefined as never, { ttl: 10, shouldCache: () => true })).toBe(10);
  });

  it.each([
    ['NaN', NaN, 'is NaN'],
    ['Infinity', Infinity, 'is Infinity'],
    ['a string', '60000', 'is string ("60000")'],
    ['undefined', undefined, 'is undefined'],
  ])('does not keep a value whose ttl is %s, and says so once per policy', (_, ttl, shown) => {
    const log = logger();
    const check = new PolicyCheck(log);
    const policy = { ttl: () => ttl as number };
    expect(check.ttlOf('Svc.get:a', 1, policy)).toBeUndefined();
    expect(check.ttlOf('Svc.get:b', 1, policy)).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]![0]).toContain('key "Svc.get:a"');
    expect(log.warnings[0]![0]).toContain(shown);
    // Another policy (another method) is reported on its own.
    expect(check.ttlOf('Other.get:a', 1, { ttl: ttl as number })).toBeUndefined();
    expect(log.warnings).toHaveLength(2);
  });

  it('does not keep a value when ttl or shouldCache throws, and reports the error once', () => {
    const log = logger();
    const check = new PolicyCheck(log);
    const boom = new Error('boom');
    const throwing: CachePolicy<number> = {
      ttl: 10,
      shouldCache: () => {
        throw boom;
      },
    };
    expect(check.ttlOf('Svc.get:a', 1, throwing)).toBeUndefined();
    expect(check.ttlOf('Svc.get:a', 1, throwing)).toBeUndefined();
    expect(log.warnings).toEqual([[expect.stringContaining('key "Svc.get:a" threw'), boom]]);
    // Without a logger, the same is quiet.
    expect(new PolicyCheck(undefined).ttlOf('k', 1, throwing)).toBeUndefined();
  });
});
