import { isProxy } from 'node:util/types';
import { DataClass, Refusal, classNameOf, formOf } from './plain-data.js';
import { SingleflightKeyError } from './singleflight.errors.js';
import * as messages from './singleflight.messages.js';

// Values JSON cannot tell apart from others (undefined and null, NaN and null, a Date and its ISO
// string, 1n and 1) are written as strings that begin with NUL; strings that begin with NUL get one
// more, so a tag never equals a user's string. An instance of a data class is written as
// `["<NUL>class:<id>", {...}]`, which no user's array can be (its first string would be escaped).
const TAG = '\u0000';
/** A tag as JSON writes it (`"\\u0000..."`), like any other string of the key. */
const tag = (text: string) => JSON.stringify(TAG + text);

/**
 * A stable key for an argument list: object keys in any order give the same key, and two argument
 * lists get the same key only if they hold the same data, as reflection shows it (values, property
 * names, prototypes). What the key cannot see all of throws a SingleflightKeyError rather than being
 * dropped, so two users can never share a result by accident: functions, symbols, class instances
 * with methods or accessors (an HTTP request), built-ins that keep data in internal slots (Map,
 * Set, typed arrays, boxed primitives), Proxies, cycles, arrays with holes or extra properties, and
 * properties that are accessors, symbols or not enumerable. An instance of a class that holds only
 * data (a DTO) is written with its class's name and a digest of its source. `where` names the
 * method in the message.
 *
 * It is the default key of `@SingleFlight()` and `@MergeWrites()`: a method decorated without a
 * key caches its values under `Class.method:` followed by this key (by nothing, for a call without
 * arguments).
 *
 * ```ts
 * serializeArgs(['eu', { tier: 'gold', shop: 1 }], 'TokenService.token');
 * // '["eu",{"shop":1,"tier":"gold"}]'
 * await flightCache.invalidate(`TokenService.token:${serializeArgs(['eu', 'shop'], '')}`);
 * ```
 * @publicApi
 */
export function serializeArgs(args: readonly unknown[], where: string): string {
  const writer = new KeyWriter(where);
  try {
    return writer.top(args);
  } catch (error) {
    if (error instanceof SingleflightKeyError) throw error;
    // Nothing the writer reads runs user code; what is left is a value nested too deep.
    const what = `a value that could not be read: ${error instanceof Error ? error.message : String(error)}`;
    throw new SingleflightKeyError(messages.UNSERIALIZABLE_ARGUMENT(where, writer.path, what), {
      cause: error,
    });
  }
}

/**
 * `serializeArgs` for an argument list the runtime made (rest parameters: dense, no extra
 * properties). A list of strings, finite numbers, booleans and nulls, the common `find(id)`, is
 * written by JSON.stringify, which gives the same key several times faster.
 */
export function argsKey(args: readonly unknown[], where: string): string {
  return isFlat(args) ? JSON.stringify(args) : serializeArgs(args, where);
}

/** Whether every argument is one that serializeArgs writes as JSON does, with no tag. */
function isFlat(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    switch (typeof arg) {
      case 'string':
        if (arg.startsWith(TAG)) return false;
        break;
      case 'number':
        if (!Number.isFinite(arg) || Object.is(arg, -0)) return false;
        break;
      case 'boolean':
        break;
      default:
        if (arg !== null) return false;
    }
  }
  return true;
}

/**
 * Writes one argument list. It reads only own data properties and prototypes, never a getter, a
 * toJSON or a Proxy trap, so a key is a pure function of the data it shows.
 */
class KeyWriter {
  /** The objects and arrays being written, for cycles (the same object twice is fine). */
  readonly #open: object[] = [];
  /** Where the writer is, for a message: the name of the argument, property or index. */
  path = 'the argument list';

  constructor(readonly where: string) {}

  value(value: unknown, name: string): string {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value.startsWith(TAG) ? TAG + value : value);
      case 'number':
        // JSON writes -0 as 0; tag it so the key keeps the difference (Object.is(-0, 0) is false).
        if (Object.is(value, -0)) return tag('-0');
        return Number.isFinite(value) ? String(value) : tag(String(value));
      case 'boolean':
        return value ? 'true' : 'false';
      case 'undefined':
        return tag('undefined');
      case 'bigint':
        return tag(`${value}n`);
      case 'object':
        return value === null ? 'null' : this.#object(value, name);
      default:
        throw this.#refuse(name, `a ${typeof value}`);
    }
  }

  /** The argument list: an array whose items are named `argument 1`, `argument 2`... */
  top(args: readonly unknown[]): string {
    this.#open.push(args);
    return this.#items(args, '', true);
  }

  /** An array's items, in order. */
  #items(array: readonly unknown[], name: string, top = false): string {
    const n = array.length;
    const keys = Reflect.ownKeys(array);
    // Own keys: the indices in order, then 'length', then the rest. n + 1 keys with index n - 1
    // before 'length' are the items and nothing else.
    if (keys.length !== n + 1 || (n > 0 && keys[n - 1] !== String(n - 1))) {
      const holes =
        keys.length < n + 1 && keys.every((k) => k === 'length' || /^\d+$/.test(String(k)));
      throw this.#refuse(
        name,
        holes ? 'an array with holes' : 'an array with properties besides its items',
      );
    }
    let out = '[';
    for (let i = 0; i < n; i++) {
      const path = top ? `argument ${i + 1}` : `index ${i}`;
      if (i > 0) out += ',';
      out += this.value(this.#own(array, String(i), path), path);
    }
    return out + ']';
  }

  #object(value: object, name: string): string {
    if (isProxy(value)) throw this.#refuse(name, 'a Proxy');
    const proto = Object.getPrototypeOf(value) as object | null;
    const form = formOf(proto);
    if (form === 'date') {
      if (Reflect.ownKeys(value).length > 0) {
        throw this.#refuse(name, 'a Date with properties of its own');
      }
      return tag(`date:${Date.prototype.getTime.call(value)}`);
    }
    if (form instanceof Refusal) throw this.#refuse(name, form.why);
    if (this.#open.includes(value)) throw this.#refuse(name, 'a circular reference');
    this.#open.push(value);
    let out: string;
    if (form === 'array') {
      out = this.#items(value as unknown[], name);
    } else if (form === 'object') {
      out = this.#fields(value, name);
    } else if (form === 'null') {
      out = `[${tag('null-prototype')},${this.#fields(value, name)}]`;
    } else if (form instanceof DataClass) {
      out = `[${tag(`class:${form.id}`)},${this.#fields(value, name)}]`;
    } else {
      throw this.#refuse(name, `an instance of ${classNameOf(proto)}`);
    }
    this.#open.pop();
    return out;
  }

  /** An object's own properties, sorted by name: only enumerable data properties with string keys. */
  #fields(object: object, name: string): string {
    const names: string[] = [];
    for (const key of Reflect.ownKeys(object)) {
      if (typeof key === 'symbol') throw this.#refuse(name, 'an object with symbol keys');
      names.push(key);
    }
    names.sort();
    let out = '{';
    for (let i = 0; i < names.length; i++) {
      const key = names[i]!;
      const path = `property "${key}"`;
      if (i > 0) out += ',';
      out += `${JSON.stringify(key)}:${this.value(this.#own(object, key, path), path)}`;
    }
    return out + '}';
  }

  /** The value of an own enumerable data property; an accessor or a hidden property is refused. */
  #own(object: object, key: string, path: string): unknown {
    const descriptor = Object.getOwnPropertyDescriptor(object, key)!;
    if (!('value' in descriptor)) throw this.#refuse(path, 'an accessor (a getter or setter)');
    if (!descriptor.enumerable) throw this.#refuse(path, 'a non-enumerable property');
    return descriptor.value;
  }

  #refuse(path: string, what: string): SingleflightKeyError {
    this.path = path || 'the argument list';
    return new SingleflightKeyError(messages.UNSERIALIZABLE_ARGUMENT(this.where, this.path, what));
  }
}
