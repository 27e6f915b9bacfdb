import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { contextualPart } from '../../../lib/nest/decorators/key-context.js';

const part = (context: string | undefined, key: string) =>
  contextualPart('Tenants.load', () => context, key);

// Few characters, the reserved ones among them, so that near-collisions are common.
const text = fc.string({
  unit: fc.constantFrom(':', '%', '@', '3', 'A', '2', '5', 'a'),
  maxLength: 6,
});
const call = fc.tuple(fc.option(text, { nil: undefined }), text);

describe('the key part under a context', () => {
  it('reads as documented', () => {
    expect(part('acme', 'eu/shop')).toBe('@acme:eu/shop');
    expect(part(undefined, 'eu/shop')).toBe(':eu/shop');
    expect(part('', '')).toBe('@:');
    expect(part('a:b%', 'c')).toBe('@a%3Ab%25:c');
  });

  it("never joins tenant 'a:b' with key 'c' and tenant 'a' with key 'b:c'", () => {
    expect(part('a:b', 'c')).not.toBe(part('a', 'b:c'));
    expect(part(undefined, '@a:b')).not.toBe(part('a', 'b'));
    expect(part('', 'x')).not.toBe(part(undefined, 'x'));
    expect(part('%3A', 'x')).not.toBe(part(':', 'x'));
  });

  it('is injective: the context and the key read back from the part (property)', () => {
    // A part that reads back to its own context and key cannot come from any other pair.
    const readBack = (whole: string): [string | undefined, string] => {
      if (whole.startsWith(':')) return [undefined, whole.slice(1)];
      const end = whole.indexOf(':');
      const context = whole.slice(1, end).replace(/%3A|%25/g, (m) => (m === '%3A' ? ':' : '%'));
      return [context, whole.slice(end + 1)];
    };
    fc.assert(
      fc.property(call, ([context, key]) => {
        expect(readBack(part(context, key))).toEqual([context, key]);
      }),
      { seed: 12, numRuns: 2000 },
    );
    fc.assert(
      fc.property(call, call, ([c1, k1], [c2, k2]) => {
        expect(part(c1, k1) === part(c2, k2)).toBe(c1 === c2 && k1 === k2);
      }),
      { seed: 12, numRuns: 2000 },
    );
  });
});
