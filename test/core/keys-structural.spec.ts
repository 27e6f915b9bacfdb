import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { argsKey } from '../../lib/core/keys.js';
import { SingleflightKeyError, serializeArgs } from '../../lib/core/index.js';

// The default key never drops information: for any two argument lists, either one of them fails
// with a SingleflightKeyError, or their keys are equal exactly when the values are structurally
// equal. Values are built from small descriptions (specs), so that the same spec built twice gives
// two distinct but equal values, and a spec with one detail changed gives a near miss.

const WHERE = 'Prices.get';

// Classes the values are made of. Dto and Dto2 differ only in class; Twin is a second class
// named Dto with other source; Sub extends Dto; Counter has a method; Slots has an accessor.
class Dto {
  a?: unknown;
}
class Dto2 {
  a?: unknown;
}
const Twin = (() => {
  class Dto {
    b = 0;
  }
  return Dto;
})();
class Sub extends Dto {}
class Counter {
  next() {
    return 1;
  }
}
class Slots {
  get size() {
    return 1;
  }
}
class SubDate extends Date {}
class SubArray extends Array<unknown> {}
class SubMap extends Map<unknown, unknown> {}
const CLASSES = { Dto, Dto2, Twin, Sub, Counter, Slots } as const;
type ClassName = keyof typeof CLASSES;

type Entries = [string, Spec][];
type Spec =
  | { t: 'leaf'; v: unknown }
  | {
      t: 'obj';
      proto: 'object' | 'null' | ClassName | 'bareParent';
      own: Entries;
      hidden: Entries;
      symbols: Entries;
      getters: Entries;
      inherited: Entries;
    }
  | { t: 'arr'; items: Spec[]; hole: boolean; extra: Entries; sub: boolean }
  | { t: 'date'; time: number; extra: Entries; sub: boolean }
  | { t: 'map'; entries: [Spec, Spec][]; sub: boolean }
  | { t: 'set'; items: Spec[] }
  | { t: 'typed'; kind: 'Uint8Array' | 'Int8Array' | 'Float64Array'; items: number[] }
  | { t: 'boxed'; v: string | number }
  | { t: 'cycle' }
  | { t: 'proxy'; target: Spec };

const proxies = new WeakSet<object>();
const isProxy = (value: object) => proxies.has(value);
const SYMBOLS: Record<string, symbol> = { s: Symbol('s'), t: Symbol('t') };

/** A fresh value for `spec`; `cycle` refers to the nearest enclosing object or array. */
function build(spec: Spec, parent?: object): unknown {
  switch (spec.t) {
    case 'leaf':
      return spec.v;
    case 'cycle':
      return parent ?? null;
    case 'proxy': {
      const target = build(spec.target);
      const proxy = new Proxy(typeof target === 'object' && target !== null ? target : {}, {});
      proxies.add(proxy);
      return proxy;
    }
    case 'boxed':
      return Object(spec.v) as object;
    case 'typed':
      return new { Uint8Array, Int8Array, Float64Array }[spec.kind](spec.items);
    case 'set':
      return new Set(spec.items.map((s) => build(s)));
    case 'map': {
      const map = spec.sub ? new SubMap() : new Map();
      for (const [k, v] of spec.entries) map.set(build(k), build(v));
      return map;
    }
    case 'date': {
      const date = spec.sub ? new SubDate(spec.time) : new Date(spec.time);
      return fill(date, spec.extra);
    }
    case 'arr': {
      const array: unknown[] = spec.sub ? new SubArray() : [];
      for (const item of spec.items) array.push(build(item, array));
      if (spec.hole && array.length > 0) delete array[0];
      return fill(array, spec.extra);
    }
    case 'obj': {
      let proto: object | null;
      if (spec.proto === 'object') proto = Object.prototype;
      else if (spec.proto === 'null') proto = null;
      else if (spec.proto === 'bareParent') {
        // A bare object made to look like Object.prototype, holding data.
        proto = Object.defineProperty(Object.create(null) as object, 'constructor', {
          value: Object,
        });
        fill(proto, spec.inherited);
      } else proto = CLASSES[spec.proto].prototype as object;
      const object = Object.create(proto) as object;
      fill(object, spec.own);
      for (const [k, s] of spec.hidden) {
        const value = build(s, object);
        Object.defineProperty(object, k, { value, enumerable: false, configurable: true });
      }
      for (const [k, s] of spec.symbols) {
        const value = build(s, object);
        Object.defineProperty(object, SYMBOLS[k]!, { value, enumerable: true, configurable: true });
      }
      for (const [k, s] of spec.getters) {
        const value = build(s, object);
        Object.defineProperty(object, k, {
          get: () => value,
          enumerable: true,
          configurable: true,
        });
      }
      return object;
    }
  }
}

function fill<T extends object>(object: T, entries: Entries): T {
  for (const [k, s] of entries) {
    Object.defineProperty(object, k, {
      value: build(s, object),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/**
 * Structural equality, written apart from the key: same prototype; same own keys with the same
 * kind of property (data or accessor, enumerable or not) and equal values; same internal data
 * (a Date's time, a Map's entries in order, a typed array's items, a boxed value). Numbers by
 * Object.is. Cycles are equal when they close at the same place. Writable and configurable are
 * not data, and a Proxy is only equal to itself.
 */
function equal(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b);
  const [x, y] = [a, b as object];
  if (seen.has(x)) return seen.get(x) === y;
  if (isProxy(x) || isProxy(y)) return x === y;
  if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return false;
  seen.set(x, y);
  if (x instanceof Date && !Object.is(x.getTime(), (y as Date).getTime())) return false;
  if (x instanceof Map || x instanceof Set) {
    const [ex, ey] = [[...x.entries()], [...(y as Map<unknown, unknown>).entries()]];
    if (ex.length !== ey.length || !ex.every((e, i) => equal(e, ey[i], seen))) return false;
  }
  if (ArrayBuffer.isView(x) && !equal([...(x as Uint8Array)], [...(y as Uint8Array)])) {
    return false;
  }
  if (x instanceof String || x instanceof Number) {
    if (!Object.is(x.valueOf(), (y as unknown as number).valueOf())) return false;
  }
  const [kx, ky] = [Reflect.ownKeys(x), Reflect.ownKeys(y)];
  if (kx.length !== ky.length) return false;
  return kx.every((k) => {
    const [dx, dy] = [
      Object.getOwnPropertyDescriptor(x, k)!,
      Object.getOwnPropertyDescriptor(y, k),
    ];
    if (dy === undefined || dx.enumerable !== dy.enumerable) return false;
    if ('value' in dx !== 'value' in dy) return false;
    return 'value' in dx
      ? equal(dx.value, dy.value, seen)
      : equal(dx.get?.(), dy.get?.(), seen) && dx.set === dy.set;
  });
}

/** The key of an argument list, or 'refused' for a SingleflightKeyError; other errors fail. */
function keyOf(args: unknown[], fast: boolean): string {
  try {
    return fast ? argsKey(args, WHERE) : serializeArgs(args, WHERE);
  } catch (error) {
    if (error instanceof SingleflightKeyError) return 'refused';
    throw error;
  }
}

// Leaves that JSON or UTF-8 would confuse: -0 and 0, NaN, lone surrogates and U+FFFD, tags.
const leaf = fc
  .constantFrom<unknown>(
    0,
    -0,
    1,
    Number.NaN,
    Infinity,
    -Infinity,
    1n,
    -1n,
    true,
    false,
    null,
    undefined,
    '',
    'a',
    '\ud800',
    '\udbff',
    '\ufffd',
    '\u0000undefined',
    '\u0000-0',
    '1',
    'null',
    SYMBOLS.s,
    Dto,
  )
  .map((v): Spec => ({ t: 'leaf', v }));
const key = fc.constantFrom('a', 'b', '0', 'length');
/** Mostly none: most values should be plain data, so that equal and unequal keys both occur. */
const rarely = <T>(arb: fc.Arbitrary<T[]>) =>
  fc.oneof({ arbitrary: fc.constant<T[]>([]), weight: 5 }, { arbitrary: arb, weight: 1 });
const seldom = fc.constantFrom(false, false, false, false, true);
const { spec } = fc.letrec<{ spec: Spec; entries: Entries }>((tie) => ({
  entries: fc.uniqueArray(fc.tuple(key, tie('spec')), { maxLength: 2, selector: ([k]) => k }),
  spec: fc.oneof(
    { depthSize: 'xsmall', withCrossShrink: true },
    { arbitrary: leaf, weight: 8 },
    { arbitrary: fc.constant<Spec>({ t: 'cycle' }), weight: 1 },
    {
      weight: 5,
      arbitrary: fc.record({
        t: fc.constant('obj' as const),
        proto: fc.constantFrom(
          ...(['object', 'object', 'object', 'null', 'Dto', 'Dto2', 'Twin', 'Sub'] as const),
          ...(['bareParent', 'Counter', 'Slots'] as const),
        ),
        own: tie('entries'),
        hidden: rarely(tie('entries')),
        symbols: rarely(
          fc.array(fc.tuple(fc.constantFrom('s', 't'), tie('spec')), { maxLength: 1 }),
        ),
        getters: rarely(tie('entries')),
        inherited: tie('entries'),
      }) as fc.Arbitrary<Spec>,
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('arr' as const),
        items: fc.array(tie('spec'), { maxLength: 3 }),
        hole: seldom,
        extra: rarely(fc.array(fc.tuple(fc.constant('x'), tie('spec')), { maxLength: 1 })),
        sub: seldom,
      }) as fc.Arbitrary<Spec>,
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('date' as const),
        time: fc.constantFrom(0, 1, Number.NaN),
        extra: rarely(tie('entries')),
        sub: seldom,
      }) as fc.Arbitrary<Spec>,
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('map' as const),
        entries: fc.array(fc.tuple(tie('spec'), tie('spec')), { maxLength: 2 }),
        sub: fc.boolean(),
      }) as fc.Arbitrary<Spec>,
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('set' as const),
        items: fc.array(tie('spec'), { maxLength: 2 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('typed' as const),
        kind: fc.constantFrom('Uint8Array', 'Int8Array', 'Float64Array'),
        items: fc.array(fc.integer({ min: -1, max: 1 }), { maxLength: 2 }),
      }) as fc.Arbitrary<Spec>,
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('boxed' as const),
        v: fc.constantFrom<string | number>('a', 1, -0),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('proxy' as const),
        target: tie('spec'),
      }) as fc.Arbitrary<Spec>,
    },
  ),
}));

/** The nodes of a spec, in pre-order, each with a function that rebuilds the spec around a new one. */
function nodes(spec: Spec, wrap: (s: Spec) => Spec = (s) => s): [Spec, (s: Spec) => Spec][] {
  const out: [Spec, (s: Spec) => Spec][] = [[spec, wrap]];
  const inEntries = (field: 'own' | 'hidden' | 'symbols' | 'getters' | 'inherited' | 'extra') => {
    const entries = (spec as unknown as Record<string, Entries | undefined>)[field] ?? [];
    entries.forEach(([k, child], i) => {
      const put = (s: Spec) => {
        const copy = entries.slice();
        copy[i] = [k, s];
        return wrap({ ...spec, [field]: copy } as Spec);
      };
      out.push(...nodes(child, put));
    });
  };
  if (spec.t === 'obj')
    for (const f of ['own', 'hidden', 'symbols', 'getters', 'inherited'] as const) inEntries(f);
  if (spec.t === 'date') inEntries('extra');
  if (spec.t === 'arr') {
    inEntries('extra');
    spec.items.forEach((child, i) => {
      const put = (s: Spec) => {
        const items = spec.items.slice();
        items[i] = s;
        return wrap({ ...spec, items });
      };
      out.push(...nodes(child, put));
    });
  }
  if (spec.t === 'proxy') out.push(...nodes(spec.target, (s) => wrap({ ...spec, target: s })));
  return out;
}

const SIBLING: Record<string, string> = {
  object: 'null',
  null: 'object',
  bareParent: 'null',
  Dto: 'Dto2',
  Dto2: 'Twin',
  Twin: 'Dto',
  Sub: 'Dto',
  Counter: 'object',
  Slots: 'object',
};

/** One detail of a node changed: what a key that dropped it would confuse. */
function nudge(spec: Spec, choice: number): Spec {
  switch (spec.t) {
    case 'obj': {
      const [first, ...rest] = spec.own;
      if (choice % 3 === 0 && first) return { ...spec, own: rest, hidden: [...spec.hidden, first] };
      if (choice % 3 === 1 && first)
        return { ...spec, own: rest, inherited: [first], proto: 'bareParent' };
      return { ...spec, proto: SIBLING[spec.proto] as never };
    }
    case 'date':
      return choice % 2 === 0
        ? { ...spec, sub: !spec.sub }
        : {
            ...spec,
            extra: [...spec.extra, ['user', { t: 'leaf', v: choice % 4 === 1 ? 'alice' : 'bob' }]],
          };
    case 'arr':
      return choice % 2 === 0 ? { ...spec, sub: !spec.sub } : { ...spec, hole: !spec.hole };
    case 'leaf': {
      const twins = new Map<unknown, unknown>([
        [0, -0],
        ['\ud800', '\udbff'],
        ['\udbff', '\ufffd'],
        [null, undefined],
        [1, 1n],
        ['1', 1],
      ]);
      return { t: 'leaf', v: twins.has(spec.v) ? twins.get(spec.v) : '\ud800' };
    }
    default:
      return { t: 'leaf', v: choice };
  }
}

/** An argument list: a plain array of specs. */
const list = fc
  .array(spec, { maxLength: 2 })
  .map((items): Spec => ({ t: 'arr', items, hole: false, extra: [], sub: false }));
/** Pairs of lists: unrelated; the same spec built twice; one node replaced; one detail nudged. */
const pair = fc.oneof(
  fc.tuple(list, list),
  list.map((s) => [s, s] as const),
  fc.tuple(list, fc.nat(), spec).map(([s, n, other]) => {
    // Any node but the list itself, which stays an argument list.
    const all = nodes(s).slice(1);
    if (all.length === 0) return [s, s] as const;
    const [, put] = all[n % all.length]!;
    return [s, put(other)] as const;
  }),
  fc.tuple(list, fc.nat(), fc.nat()).map(([s, n, choice]) => {
    const all = nodes(s).slice(1);
    if (all.length === 0) return [s, s] as const;
    const [node, put] = all[n % all.length]!;
    return [s, put(nudge(node, choice))] as const;
  }),
);

const RUNS = 25_000;

describe('the default key never drops information (property)', () => {
  it(`${RUNS} pairs of argument lists: equal keys exactly for structurally equal lists, or a SingleflightKeyError`, () => {
    let [keyed, same, refused] = [0, 0, 0];
    fc.assert(
      fc.property(pair, ([s1, s2]) => {
        const [a, b] = [build(s1) as unknown[], build(s2) as unknown[]];
        const [ka, kb] = [keyOf(a, false), keyOf(b, false)];
        // The decorators' fast path gives the same answer for every list.
        if (keyOf(a, true) !== ka || keyOf(b, true) !== kb) return false;
        if (ka === 'refused' || kb === 'refused') {
          refused++;
          // Refusal depends on the data alone: an equal list is refused too.
          return ka === kb || !equal(a, b);
        }
        keyed++;
        if (ka === kb) same++;
        return (ka === kb) === equal(a, b);
      }),
      { seed: 20_261_204, numRuns: RUNS },
    );
    // The runs exercise all three outcomes, often enough to matter.
    expect(Math.min(keyed - same, same, refused)).toBeGreaterThan(RUNS / 20);
  });
});

describe('what the default key used to confuse', () => {
  /** Two argument lists a user can tell apart: different keys, or a SingleflightKeyError. */
  const apart = (a: unknown[], b: unknown[]) => {
    const [ka, kb] = [keyOf(a, false), keyOf(b, false)];
    expect(ka === 'refused' || kb === 'refused' || ka !== kb).toBe(true);
  };
  const bareParent = (user: string) =>
    Object.create(
      Object.assign(Object.create(null) as object, { constructor: Object, user }),
    ) as object;
  const hidden = (user: string) =>
    Object.defineProperty({ id: 1 }, 'user', { value: user, enumerable: false });

  it.each<[string, unknown, unknown]>([
    [
      'Dates with different extra data',
      Object.assign(new Date(0), { user: 'alice' }),
      Object.assign(new Date(0), { user: 'bob' }),
    ],
    [
      'instances of a Date subclass with different data',
      Object.assign(new SubDate(0), { user: 'alice' }),
      Object.assign(new SubDate(0), { user: 'bob' }),
    ],
    ['objects that differ in a non-enumerable property', hidden('alice'), hidden('bob')],
    ['objects that differ in data on a bare parent', bareParent('alice'), bareParent('bob')],
    [
      'objects that differ in a symbol property',
      { [SYMBOLS.s!]: 'alice' },
      { [SYMBOLS.s!]: 'bob' },
    ],
    ['Maps', new Map([['user', 'alice']]), new Map([['user', 'bob']])],
    ['typed arrays', new Uint8Array([1]), new Uint8Array([2])],
    ['lone surrogates', 'user\ud800', 'user\udbff'],
    ['a lone surrogate and U+FFFD', 'user\ud800', 'user\ufffd'],
  ])('%s', (_, a, b) => {
    apart([a], [b]);
  });

  it('keys a data class (a DTO) by its class and its data', () => {
    const dto = (Class: new () => object, a: unknown) => Object.assign(new Class(), { a });
    expect(keyOf([dto(Dto, 1)], false)).toBe(keyOf([dto(Dto, 1)], false));
    expect(keyOf([dto(Dto, 1)], false)).toMatch(
      /^\[\["\\u0000class:Dto@[0-9a-f]{16}",\{"a":1\}\]\]$/,
    );
    // Same data, another class; a subclass; another class of the same name; a plain object.
    for (const other of [dto(Dto2, 1), dto(Sub, 1), dto(Twin, 1), { a: 1 }]) {
      expect(keyOf([other], false)).not.toBe(keyOf([dto(Dto, 1)], false));
    }
    expect(keyOf([dto(Dto, 1)], false)).not.toBe(keyOf([dto(Dto, 2)], false));
  });
});
