import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { runInNewContext } from 'node:vm';
import { SingleflightOptionsError, type TypeCodec } from '../../lib/index.js';
import { UnencodableValueError } from '../../lib/cache/type-codec.js';
import { ValueCodec } from '../../lib/cache/value-codec.js';
import { Money, money } from '../support/money.js';

// The one codec of values kept outside the process (a serializing cache store, a Redis flight's
// result): what it keeps, what it refuses, and that bad input never decodes into something else.

/** A class whose codec's data is any value the codec keeps. */
class Box {
  constructor(readonly content: unknown) {}
}
const box: TypeCodec<Box> = { type: Box, encode: (b) => b.content, decode: (c) => new Box(c) };
const codec = new ValueCodec([money, box]);
const roundTrip = (value: unknown) => codec.decode(codec.encode(value));

/** Every value the codec keeps, nested in each other. */
const TYPED = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array];
const leaf = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.double(), // NaN, ±Infinity and -0 included
  fc.bigInt(),
  fc.date({ noInvalidDate: true }), // an invalid Date is kept too, but never equals itself
  fc.uint8Array().map((bytes) => Buffer.from(bytes)),
  fc.uint8Array().chain((bytes) => fc.constantFrom(...TYPED).map((T) => new T(bytes))),
  fc.float64Array(),
  fc.bigInt64Array(),
  fc.uint8Array().map((bytes) => bytes.slice().buffer),
  fc.tuple(fc.bigInt(), fc.string()).map(([c, cur]) => new Money(c, cur)),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value')),
    // Keys include "$", "__proto__" and the like.
    fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('$', '__proto__', 'toString')),
      tie('value'),
    ),
    fc
      .dictionary(fc.string(), tie('value'))
      .map((o) => Object.assign(Object.create(null) as object, o)),
    fc.array(fc.tuple(tie('value'), tie('value'))).map((entries) => new Map(entries)),
    fc.array(tie('value')).map((items) => new Set(items)),
    tie('value').map((v) => new Box(v)),
  ),
}));

describe('ValueCodec', () => {
  it('gives back an equal value of the same types, for every value it keeps (property)', () => {
    fc.assert(
      fc.property(value, (v) => {
        const back = roundTrip(v);
        // toStrictEqual compares prototypes, typed array kinds, -0, NaN and undefined properties.
        expect(back).toStrictEqual(v);
        // The text is JSON: a store that keeps JSON keeps it as it is.
        const text = codec.encode(v);
        expect(JSON.stringify(JSON.parse(text))).toBe(text);
      }),
      { seed: 20_261_204, numRuns: 300 },
    );
  });

  it('keeps each listed type, nested in objects, arrays, Maps and Sets', () => {
    const value = {
      at: new Date('2026-01-02T03:04:05.678Z'),
      invalid: new Date(NaN),
      byId: new Map<unknown, unknown>([
        [1n, new Set(['a'])],
        [{ k: 1 }, [undefined]],
      ]),
      bytes: Buffer.from('héllo'),
      floats: new Float32Array([1.5, -0]),
      words: new Uint16Array(new Uint8Array([1, 2, 3, 4, 5]).buffer, 2, 1),
      raw: new Uint8Array([9, 8]).buffer,
      numbers: [-0, NaN, Infinity, -Infinity, 2 ** 53],
      missing: undefined,
      bare: Object.assign(Object.create(null) as object, { x: 1 }),
      dollar: { $: ['undefined'] },
      price: new Money(1999n, 'EUR'),
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toStrictEqual({ ...value, invalid: expect.any(Date) });
    expect(back.invalid.getTime()).toBeNaN();
    expect(Object.hasOwn(back, 'missing')).toBe(true);
    expect(back.price.format()).toBe('1999 EUR');
    expect(back.bytes).toBeInstanceOf(Buffer);
    expect(Object.getPrototypeOf(back.bare)).toBeNull();
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('reads a "__proto__" key as a key: decoding never sets a prototype', () => {
    const text = '{"__proto__":{"polluted":true},"$x":1}';
    const back = codec.decode(text) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['a class without a codec', { user: new (class User {})() }, 'at .user: an instance of User'],
    ['an Error', [new Error('x')], 'at [0]: an instance of Error'],
    ['a RegExp', { re: /x/ }, 'at .re: an instance of RegExp'],
    [
      'a subclass of Map',
      new (class Index extends Map {})(),
      'an instance of Index, a subclass of Map',
    ],
    ['a subclass of a class with a codec', new (class Euro extends Money {})(1n, 'EUR'), 'Euro'],
    ['a function', { run() {} }, 'at .run: a function'],
    ['a symbol', new Map([['s', Symbol('s')]]), 'at .get("s"): a symbol'],
    ['a Proxy', { p: new Proxy({}, {}) }, 'at .p: a Proxy'],
    [
      'an array with holes',
      { list: Object.assign([1], { 2: 3 }) },
      'at .list[1]: an array with holes',
    ],
    ['a Date with properties', Object.assign(new Date(0), { tz: 'UTC' }), 'a Date with properties'],
    [
      'a cycle',
      (() => {
        const a: Record<string, unknown> = {};
        a.self = { a };
        return a;
      })(),
      'at .self.a: a cycle',
    ],
    ['a Promise', { p: Promise.resolve(1) }, 'at .p: an instance of Promise'],
  ])('refuses %s, saying where', (_, input, message) => {
    expect(() => codec.encode(input)).toThrow(UnencodableValueError);
    expect(() => codec.encode(input)).toThrow(message);
  });

  it("refuses a value whose codec's encode throws, and names the codec", () => {
    const broken = new ValueCodec([
      {
        ...money,
        encode: () => {
          throw new Error('no');
        },
      },
    ]);
    expect(() => broken.encode(new Money(1n, 'EUR'))).toThrow(
      /encode of codec "Money" threw \(no\)/,
    );
  });

  it('keeps plain objects, arrays and Dates of another realm (a vm context)', () => {
    const foreign = runInNewContext('({ at: new Date(5), list: [1, { n: 2 }] })') as object;
    expect(roundTrip(foreign)).toStrictEqual({ at: new Date(5), list: [1, { n: 2 }] });
  });

  it.each([
    ['a tag with another key', '{"$":["undefined"],"x":1}'],
    ['an unknown tag', '{"$":["Function","return 1"]}'],
    ['a class without a codec here', '{"$":["class","Other",1]}'],
    ['a malformed bigint', '{"$":["bigint","1e3"]}'],
    ['a typed array of a wrong length', '{"$":["Float64Array","AAA="]}'],
    ['a Map of malformed entries', '{"$":["Map",[[1]]]}'],
  ])('refuses to decode %s', (_, text) => {
    expect(() => codec.decode(text)).toThrow();
  });

  it.each([
    ['not an object', 1, /malformed \(not an object\)/],
    ['without a class', { encode: String, decode: String }, /`type` is not a class/],
    ['for Object', { type: Object, encode: String, decode: String }, /class of your own/],
    ['without decode', { type: Money, encode: String }, /`encode` or `decode`/],
    ['with an empty name', { ...money, name: '' }, /`name`/],
  ])('refuses a codec %s, at once', (_, bad, message) => {
    expect(() => new ValueCodec([bad as never], 'codecs of forRoot()')).toThrow(
      SingleflightOptionsError,
    );
    expect(() => new ValueCodec([bad as never], 'codecs of forRoot()')).toThrow(message);
  });

  it('refuses two codecs of one name or one class', () => {
    class Other {}
    const other = { type: Other, name: 'Money', encode: String, decode: () => new Other() };
    expect(() => new ValueCodec([money, other])).toThrow(/Two codecs .* "Money"/);
    expect(() => new ValueCodec([money, { ...money, name: 'Cash' }])).toThrow(/same class/);
  });
});
