import { describe, it, expect } from '@jest/globals';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { argsKey } from '../../lib/core/keys.js';
import { SingleflightKeyError, serializeArgs } from '../../lib/core/index.js';

const WHERE = 'UsersService.findOne';
const key = (...args: unknown[]) => serializeArgs(args, WHERE);

/**
 * Deep equality of plain data, as the key must see it: -0 is not 0, NaN is NaN, Dates by time, a
 * bare object (no prototype) is not a plain one.
 */
function sameData(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b);
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  if ((Object.getPrototypeOf(a) === null) !== (Object.getPrototypeOf(b) === null)) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => sameData(x, b[i]))
    );
  }
  const [ka, kb] = [Object.keys(a).sort(), Object.keys(b as object).sort()];
  return (
    ka.length === kb.length &&
    ka.every((k, i) => k === kb[i]) &&
    ka.every((k) => sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** The same data with the keys of every object inserted in another (seeded) order. */
function reorder(value: unknown, seed: number): unknown {
  let state = seed >>> 0 || 1;
  const random = () => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null || v instanceof Date) return v;
    const entries = Object.entries(v).map(([k, x]) => [k, walk(x)] as const);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
    const copy = Object.fromEntries(entries) as object;
    return Object.getPrototypeOf(v) === null ? Object.assign(Object.create(null), copy) : copy;
  };
  return walk(value);
}

/** Values JSON alone would confuse with one another, or with the serializer's own tags. */
const TAGGED = [undefined, Number.NaN, Infinity, -Infinity, -0, 1n, -1n, new Date(0)];
const CONFUSABLE: unknown[] = [
  ...TAGGED,
  null,
  0,
  1,
  -1,
  '1',
  '-1',
  '1n',
  '\u00001n',
  'undefined',
  '\u0000undefined',
  '\u0000\u0000undefined',
  'NaN',
  '\u0000NaN',
  'Infinity',
  '\u0000Infinity',
  '\u0000-0',
  '1970-01-01T00:00:00.000Z',
  '\u0000date:0',
  '\u0000',
  '',
  true,
  'true',
  [],
  {},
  '[]',
  '{}',
];

/** fc.jsonValue plus what JSON cannot express: undefined, NaN, ±Infinity, -0, bigint, Date. */
const extendedLeaf = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  fc.constantFrom(undefined, Number.NaN, Infinity, -Infinity, -0),
  fc.bigInt(),
  fc.date(),
  fc.string().map((s) => `\u0000${s}`),
);
const { data } = fc.letrec((tie) => ({
  data: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    extendedLeaf,
    fc.array(tie('data'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('data'), { maxKeys: 4 }),
  ),
}));
/** Small structures over CONFUSABLE leaves, so that near-collisions are tried often. */
const { near } = fc.letrec((tie) => ({
  near: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...CONFUSABLE),
    fc.array(tie('near'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', '0', ''), tie('near'), { maxKeys: 2 }),
  ),
}));

describe('serializeArgs', () => {
  describe('stable and order-independent', () => {
    it('gives the same key for the same data with object keys in any order', () => {
      fc.assert(
        fc.property(data, fc.integer(), (value, seed) => {
          expect(key(reorder(value, seed))).toBe(key(value));
        }),
        { seed: 4242, numRuns: 1000 },
      );
    });

    it('is order-independent at every depth', () => {
      expect(key({ a: 1, b: { c: [1, { d: 2, e: 3 }], f: null } }, 'x')).toBe(
        key({ b: { f: null, c: [1, { e: 3, d: 2 }] }, a: 1 }, 'x'),
      );
      // Object.create(null) holds plain data too, in any order, and is told apart from {}.
      const bare = (value: object) => Object.assign(Object.create(null) as object, value);
      expect(key(bare({ b: 2, a: 1 }))).toBe(key(bare({ a: 1, b: 2 })));
      expect(key(bare({ a: 1, b: 2 }))).not.toBe(key({ a: 1, b: 2 }));
    });

    it('treats plain objects and Dates of another realm (vm, structuredClone in jest) as plain data', () => {
      const foreign: unknown = runInNewContext('({ b: [1, { c: new Date(5) }], a: "x" })');
      expect(key(foreign)).toBe(key({ a: 'x', b: [1, { c: new Date(5) }] }));
      expect(() =>
        key(runInNewContext('new (class Request { get url() { return 1 } })()')),
      ).toThrow(/an instance of Request, a class with methods or accessors/);
      expect(() => key(runInNewContext('new Map()'))).toThrow(SingleflightKeyError);
    });

    it('writes plain data as it always did, so keys (and cached values) survive an upgrade', () => {
      expect(key('eu', { tier: 'gold', shop: 1 })).toBe('["eu",{"shop":1,"tier":"gold"}]');
      expect(key(new Date(5), -0, Number.NaN, 1n, undefined, null, '\u0000x', '\ud800')).toBe(
        String.raw`["\u0000date:5","\u0000-0","\u0000NaN","\u00001n","\u0000undefined",null,"\u0000\u0000x","\ud800"]`,
      );
    });

    it('keeps the order of arguments and array items', () => {
      expect(key(1, 2)).not.toBe(key(2, 1));
      expect(key([1, 2])).not.toBe(key([2, 1]));
      expect(key([1, 2])).not.toBe(key(1, 2));
    });

    it('returns a string and is deterministic', () => {
      const value = { id: 7, tags: ['a', 'b'], at: new Date(5), n: 3n };
      expect(typeof key(value)).toBe('string');
      expect(key(value)).toBe(key(structuredClone(value)));
    });
  });

  describe("the decorators' fast path for strings, numbers, booleans and nulls", () => {
    it('(property) gives the key serializeArgs gives, for every argument list', () => {
      // Lone surrogates, quotes, control characters and NUL-led strings included: JSON.stringify
      // must escape exactly as the full path does, and tagged values must leave the fast path.
      const text = fc.oneof(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: fc.constantFrom('\u0000', '"', '\\', '\n', '\ud800', '\udfff', 'a') }),
      );
      const flat = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
      const arg = fc.oneof(flat, fc.constantFrom(...CONFUSABLE), data);
      fc.assert(
        fc.property(fc.array(arg, { maxLength: 4 }), (args) => {
          expect(argsKey(args, WHERE)).toBe(serializeArgs(args, WHERE));
        }),
        { seed: 4246, numRuns: 3000 },
      );
    });

    it('still rejects what is not plain data', () => {
      expect(() => argsKey(['id', new Map()], WHERE)).toThrow(/argument 2 \(an instance of Map\)/);
    });
  });

  describe('distinct data, distinct keys', () => {
    it('(property) two values share a key only if they are deep-equal', () => {
      fc.assert(
        fc.property(data, data, (a, b) => {
          expect(key(a) === key(b)).toBe(sameData(a, b));
        }),
        { seed: 4243, numRuns: 1000 },
      );
    });

    it('(property) never confuses values JSON would confuse, or tags with strings', () => {
      fc.assert(
        fc.property(near, near, (a, b) => {
          expect(key(a) === key(b)).toBe(sameData(a, b));
        }),
        { seed: 4244, numRuns: 3000 },
      );
    });

    it('(property) a string that starts with NUL never collides with a tagged value', () => {
      // Small domains, and strings shaped like tags, so that near-misses are actually tried.
      const smallBigInt = fc.bigInt({ min: -2n, max: 2n });
      const smallDate = fc.integer({ min: -1, max: 2 }).map((t) => new Date(t));
      const tagged = fc.oneof(fc.constantFrom(...TAGGED), smallBigInt, smallDate);
      const nulString = fc
        .tuple(
          fc.integer({ min: 1, max: 3 }),
          fc.oneof(
            fc.string(),
            fc.constantFrom('undefined', 'NaN', 'Infinity', '-Infinity', '-0'),
            smallBigInt.map((b) => `${b}n`),
            smallDate.map((d) => `date:${d.getTime()}`),
          ),
        )
        .map(([nuls, rest]) => '\u0000'.repeat(nuls) + rest);
      fc.assert(
        fc.property(nulString, tagged, (s, value) => {
          expect(key(s)).not.toBe(key(value));
          expect(key({ v: [s] })).not.toBe(key({ v: [value] }));
        }),
        { seed: 4245, numRuns: 1000 },
      );
    });

    it.each([
      ['undefined vs null', [undefined], [null]],
      ['a property set to undefined vs a missing one', [{ a: undefined }], [{}]],
      ['a property set to null vs a missing one', [{ a: null }], [{}]],
      ['an undefined argument vs a missing one', [1, undefined], [1]],
      ['NaN vs null', [Number.NaN], [null]],
      ['Infinity vs null', [Infinity], [null]],
      ['Infinity vs -Infinity', [Infinity], [-Infinity]],
      ['-0 vs 0', [-0], [0]],
      ['a Date vs its ISO string', [new Date(0)], ['1970-01-01T00:00:00.000Z']],
      ['a Date vs its time', [new Date(0)], [0]],
      ['two Dates', [new Date(0)], [new Date(1)]],
      ['1n vs 1', [1n], [1]],
      ['1n vs "1"', [1n], ['1']],
      ['1 vs "1"', [1], ['1']],
      ['a string that looks like the undefined tag', [undefined], ['\u0000undefined']],
      ['a string that looks like the NaN tag', [Number.NaN], ['\u0000NaN']],
      ['a string that looks like the bigint tag', [1n], ['\u00001n']],
      ['a string that looks like the Date tag', [new Date(0)], ['\u0000date:0']],
      ['a NUL string vs its escaped twin', ['\u0000undefined'], ['\u0000\u0000undefined']],
      ['an array vs the same items as arguments', [[1, 2]], [1, 2]],
      ['an empty array vs an empty object', [[]], [{}]],
      ['a string vs the same string nested', ['a'], [['a']]],
    ])('%s', (_, a, b) => {
      expect(serializeArgs(a, WHERE)).not.toBe(serializeArgs(b, WHERE));
    });

    it('an object with a toJSON method does not take the key of what toJSON returns', () => {
      expect(() => key({ toJSON: () => 1 })).toThrow(SingleflightKeyError);
      expect(() => key({ toJSON: () => 1 })).toThrow(/property "toJSON" \(a function\)/);
    });
  });

  describe('anything that is not plain data fails, naming the method and the place', () => {
    class Request {
      headers = { authorization: 'Bearer secret' };
      header(name: string) {
        return (this.headers as Record<string, string>)[name];
      }
    }
    class User {
      readonly #token = 'secret';
      constructor(readonly id: string) {}
      get token() {
        return this.#token;
      }
    }
    const self: Record<string, unknown> = { id: 1 };
    self.self = self;
    const ring: unknown[] = [1];
    ring.push(ring);

    it.each<[string, unknown[], RegExp]>([
      [
        'a class instance (an HTTP request)',
        [new Request()],
        /argument 1 \(an instance of Request, a class with methods or accessors/,
      ],
      [
        'a class instance in a later argument',
        ['id', new User('u1')],
        /argument 2 \(an instance of User, a class with methods or accessors/,
      ],
      [
        'a nested class instance',
        [{ ctx: { req: new Request() } }],
        /property "req" \(an instance of Request, a class/,
      ],
      [
        'a class instance in an array',
        [[1, new User('u1')]],
        /index 1 \(an instance of User, a class/,
      ],
      ['a function', [() => 1], /argument 1 \(a function\)/],
      ['a nested function', [{ onDone: () => 1 }], /property "onDone" \(a function\)/],
      ['a symbol', [Symbol('s')], /argument 1 \(a symbol\)/],
      ['a nested symbol', [{ s: Symbol('s') }], /property "s" \(a symbol\)/],
      ['a Map', [new Map([[1, 2]])], /argument 1 \(an instance of Map\)/],
      ['a Set', [new Set([1])], /argument 1 \(an instance of Set\)/],
      ['a circular object', [self], /property "self" \(a circular reference\)/],
      ['a circular array', [ring], /index 1 \(a circular reference\)/],
      [
        'an object with symbol keys',
        [{ [Symbol('k')]: 1 }],
        /argument 1 \(an object with symbol keys\)/,
      ],
      ['a boxed string', [Object('s')], /argument 1 \(an instance of String\)/],
      ['a RegExp', [/x/], /argument 1 \(an instance of RegExp\)/],
      ['an Error', [new Error('e')], /argument 1 \(an instance of Error\)/],
      ['a Uint8Array', [new Uint8Array(2)], /argument 1 \(an instance of Uint8Array\)/],
      ['a Promise', [Promise.resolve(1)], /argument 1 \(an instance of Promise\)/],
    ])('%s', (_, args, where) => {
      let error: unknown;
      try {
        serializeArgs(args, WHERE);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SingleflightKeyError);
      const message = (error as Error).message;
      expect(message).toContain(WHERE);
      expect(message).toMatch(where);
      expect(message).toMatch(/explicit key/);
    });

    it('an array that JSON would read lossily: holes, extra properties, a subclass', () => {
      const holes = [1, 2, 3];
      delete holes[1];
      const extra = Object.assign([1, 2], { tenant: 'a' });
      const symbol = Object.assign([1], { [Symbol('s')]: 1 });
      // A hole and an extra property together: as many own keys as items, still not the items.
      const both = Object.assign([1, 2, 3], { tenant: 'a' });
      delete both[1];
      class Ids extends Array<number> {}
      expect(() => key(holes)).toThrow(/argument 1 \(an array with holes\)/);
      expect(() => key({ ids: holes })).toThrow(/property "ids" \(an array with holes\)/);
      expect(() => key(extra)).toThrow(/argument 1 \(an array with properties besides its items\)/);
      expect(() => key(symbol)).toThrow(/an array with properties besides its items/);
      expect(() => key(both)).toThrow(/an array with properties besides its items/);
      expect(() => key(Ids.from([1]))).toThrow(
        /argument 1 \(an instance of Ids, a subclass of Array\)/,
      );
      for (const args of [[holes], [extra], [symbol], [both]]) {
        expect(() => serializeArgs(args, WHERE)).toThrow(SingleflightKeyError);
      }
      // Plain arrays of any realm, empty or not, and undefined items written out, are plain data.
      expect(key([1, undefined, 3])).not.toBe(key([1, null, 3]));
      expect(key(runInNewContext('[1, 2]'))).toBe(key([1, 2]));
      expect(key([], [[]])).toBe(key([], [[]]));
    });

    it('an instance of an unnamed class is named as such', () => {
      const Anonymous = (() =>
        class {
          run() {}
        })();
      Object.defineProperty(Anonymous, 'name', { value: '' });
      expect(() => key(new Anonymous())).toThrow(/an unnamed class/);
    });

    it('a getter is refused without being called', () => {
      let calls = 0;
      const value = {
        get secret(): string {
          calls++;
          throw new Error('not readable');
        },
      };
      let error: unknown;
      try {
        key(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SingleflightKeyError);
      expect((error as Error).message).toMatch(/property "secret" \(an accessor/);
      expect(calls).toBe(0);
    });

    it('the same object twice (no cycle) is plain data', () => {
      const shared = { a: 1 };
      expect(key(shared, [shared])).toBe(key({ a: 1 }, [{ a: 1 }]));
    });
  });
});
