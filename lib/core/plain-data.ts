import { createHash } from 'node:crypto';
import { isProxy } from 'node:util/types';

/**
 * What the default key may read of an object, decided by its prototype: the rules of "plain data".
 * An object is plain data when reflection shows all of it: its prototype is one the key can name
 * (Object.prototype, null, Array.prototype, Date.prototype of any realm, or a data class), and
 * the serializer then checks its own properties. Anything else is refused: a class with methods
 * or accessors can compute from state no reflection shows (private fields, closures), and a
 * built-in (Map, Set, typed arrays, boxed primitives) keeps its data in internal slots.
 */
export type Form = 'object' | 'null' | 'array' | 'date' | DataClass | Refusal;

/** A class whose instances are data: every prototype on its chain holds only its constructor. */
export class DataClass {
  constructor(
    /** The class in a key: its name and a digest of the names and source of its chain. */
    readonly id: string,
  ) {}
}

/** Why the default key cannot read an object. */
export class Refusal {
  constructor(readonly why: string) {}
}

const forms = new WeakMap<object, Form>();

/** The form of objects whose prototype is `proto`; computed once per prototype. */
export function formOf(proto: object | null): Form {
  if (proto === null) return 'null';
  if (proto === Object.prototype) return 'object';
  if (proto === Array.prototype) return 'array';
  if (proto === Date.prototype) return 'date';
  let form = forms.get(proto);
  if (form === undefined) {
    form = classify(proto);
    forms.set(proto, form);
  }
  return form;
}

/**
 * Why the default key refuses every instance of `type`, a parameter type from
 * `design:paramtypes`, or undefined when some of them may be plain data. Object and Function say
 * little: TypeScript writes Object for an interface or a union, and Function for a function type
 * but also for a class imported with `import type` (a DTO); only the call shows what they are.
 */
export function refusedType(type: unknown): string | undefined {
  if (typeof type !== 'function') return undefined;
  if (type === Symbol) return 'a symbol';
  if ([Object, Function, String, Number, Boolean, BigInt, Array, Date].includes(type as never)) {
    return undefined;
  }
  const proto = ownValue(type, 'prototype');
  if (typeof proto !== 'object' || proto === null) return undefined;
  const form = formOf(proto);
  return form instanceof Refusal ? form.why : undefined;
}

/** The name of the class of objects with prototype `proto`, for messages. */
export function classNameOf(proto: object | null): string {
  const ctor = proto === null ? undefined : ownValue(proto, 'constructor');
  const name = typeof ctor === 'function' ? ownValue(ctor, 'name') : undefined;
  return typeof name === 'string' && name !== '' ? name : 'an unnamed class';
}

// Intrinsics of another realm (a vm context, jest's sandbox) are recognized by their constructor:
// a native function of that name whose `prototype` is this very object, which no script can forge.
export function isIntrinsic(proto: object, name: string): boolean {
  const ctor = ownValue(proto, 'constructor');
  return (
    typeof ctor === 'function' &&
    ownValue(ctor, 'prototype') === proto &&
    Function.prototype.toString.call(ctor) === `function ${name}() { [native code] }`
  );
}

function classify(proto: object): Form {
  if (isProxy(proto)) return new Refusal('an object that inherits from a Proxy');
  if (isIntrinsic(proto, 'Object')) return 'object';
  if (isIntrinsic(proto, 'Array') && Array.isArray(proto)) return 'array';
  if (isIntrinsic(proto, 'Date')) return 'date';
  const name = classNameOf(proto);
  const chain: object[] = [];
  let p: object | null = proto;
  for (;;) {
    if (p === null) return new Refusal('an object that inherits from a bare object');
    if (isProxy(p)) return new Refusal('an object that inherits from a Proxy');
    if (p === Object.prototype || isIntrinsic(p, 'Object')) break;
    const ctor = ownValue(p, 'constructor');
    const keys = Reflect.ownKeys(p);
    if (typeof ctor !== 'function' || isProxy(ctor) || ownValue(ctor, 'prototype') !== p) {
      return new Refusal(`an object that inherits properties (from ${describeProto(p)})`);
    }
    if (NATIVE.test(Function.prototype.toString.call(ctor))) {
      // A built-in keeps its data in internal slots (a Map's entries, a Date's time).
      const builtIn = classNameOf(p);
      return new Refusal(
        `an instance of ${name}${name === builtIn ? '' : `, a subclass of ${builtIn}`}`,
      );
    }
    if (keys.length !== 1 || keys[0] !== 'constructor') {
      return new Refusal(
        `an instance of ${name}, a class with methods or accessors` +
          (name === classNameOf(p) ? '' : ` (${classNameOf(p)})`) +
          ', which can read state the key cannot see',
      );
    }
    if (Reflect.ownKeys(ctor).some((k) => !STATIC_KEYS.has(k))) {
      return new Refusal(`an instance of ${name}; class ${classNameOf(p)} has static members`);
    }
    if (PRIVATE_NAME.test(Function.prototype.toString.call(ctor))) {
      return new Refusal(`an instance of ${name}; class ${classNameOf(p)} has private fields`);
    }
    chain.push(ctor);
    p = Object.getPrototypeOf(p) as object | null;
  }
  return dataClass(name, chain);
}

const NATIVE = /\{\s*\[native code\]\s*\}$/;
/** Own keys every function has (sloppy functions: arguments and caller). */
const STATIC_KEYS = new Set<string | symbol>([
  'length',
  'name',
  'prototype',
  'arguments',
  'caller',
]);
/** A private name in a class's source (`#token`); a '#' in a string also counts, to be safe. */
const PRIVATE_NAME = /#[\p{ID_Start}$_\\]/u;

/** Ids given out, so that two classes of one name and the same source never share one. */
const ids = new Map<string, WeakRef<object>>();

function dataClass(name: string, chain: object[]): Form {
  const hash = createHash('sha1');
  for (const ctor of chain) {
    const source = Function.prototype.toString.call(ctor);
    hash.update(
      `${classNameOf(ownValue(ctor, 'prototype') as object)}\n${source.length}\n${source}`,
    );
  }
  const id = `${name}@${hash.digest('hex').slice(0, 16)}`;
  const owner = ids.get(id)?.deref();
  if (owner !== undefined && owner !== chain[0]) {
    return new Refusal(`an instance of ${name}, and another class has the same name and source`);
  }
  ids.set(id, new WeakRef(chain[0]!));
  return new DataClass(id);
}

function describeProto(proto: object): string {
  const name = classNameOf(proto);
  return name === 'an unnamed class' ? 'an object' : `${name}.prototype`;
}

/** An own data property's value, read without running a getter; undefined for anything else. */
function ownValue(object: object, key: PropertyKey): unknown {
  return Object.getOwnPropertyDescriptor(object, key)?.value;
}
