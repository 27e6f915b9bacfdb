import { isDate } from 'node:util/types';
import { configure } from 'safe-stable-stringify';
import { SingleflightKeyError } from './singleflight.errors.js';
import * as messages from './singleflight.messages.js';

// Values JSON cannot tell apart from others (undefined and null, NaN and null, a Date and its ISO
// string, 1n and 1) get a tag that begins with NUL; strings that begin with NUL get one more, so a
// tag never equals a user's string.
const TAG = '\u0000';
const stringify = configure({ deterministic: true, circularValue: TypeError, bigint: true });

/**
 * A stable key for an argument list: object keys in any order give the same key, and two argument
 * lists get the same key only if they hold the same plain data. Anything that is not plain data
 * (class instances such as an HTTP request, functions, symbols, Maps, cycles, arrays with holes or
 * extra properties) throws a
 * SingleflightKeyError rather than being dropped, so two users can never share a result by accident.
 * `where` names the method in the message.
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
  let path = 'the argument list';
  try {
    return stringify(args, function (this: unknown, name: string, value: unknown) {
      const raw = (this as Record<string, unknown>)[name];
      path = this === args ? `argument ${Number(name) + 1}` : describe(name);
      return tagged(raw, value, where, path);
    }) as string;
  } catch (error) {
    if (error instanceof SingleflightKeyError) throw error;
    // Only the stringifier's own TypeError means a cycle; a getter or toJSON that throws, or a
    // value nested too deep for the stack, must not be reported as one.
    const circular = error instanceof TypeError && /circular/i.test(error.message);
    const what = circular
      ? 'a circular reference'
      : `a value that could not be read: ${error instanceof Error ? error.message : String(error)}`;
    throw new SingleflightKeyError(messages.UNSERIALIZABLE_ARGUMENT(where, path, what), {
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

function tagged(raw: unknown, value: unknown, where: string, path: string): unknown {
  switch (typeof raw) {
    case 'string':
      return raw.startsWith(TAG) ? TAG + raw : raw;
    case 'number':
      // JSON writes -0 as 0; tag it so the key keeps the difference (Object.is(-0, 0) is false).
      if (Object.is(raw, -0)) return `${TAG}-0`;
      return Number.isFinite(raw) ? raw : `${TAG}${raw}`;
    case 'boolean':
      return raw;
    case 'undefined':
      return `${TAG}undefined`;
    case 'bigint':
      return `${TAG}${raw}n`;
    case 'object':
      if (raw === null) return raw;
      if (Array.isArray(raw)) {
        const flaw = arrayFlaw(raw);
        if (flaw === undefined) return raw;
        throw new SingleflightKeyError(messages.UNSERIALIZABLE_ARGUMENT(where, path, flaw));
      }
      if (isDate(raw)) return `${TAG}date:${Date.prototype.getTime.call(raw)}`;
      // `raw`, not `value`: value is what a toJSON method returned, so { toJSON: () => 1 } would
      // share the key of 1. Walking raw reaches the toJSON function and rejects it.
      if (isPlain(raw)) return raw;
      if (Object.getOwnPropertySymbols(raw).length > 0 && isPlainProto(raw)) {
        throw new SingleflightKeyError(
          messages.UNSERIALIZABLE_ARGUMENT(where, path, 'an object with symbol keys'),
        );
      }
      throw new SingleflightKeyError(
        messages.UNSERIALIZABLE_ARGUMENT(where, path, `an instance of ${className(raw)}`),
      );
    default:
      throw new SingleflightKeyError(
        messages.UNSERIALIZABLE_ARGUMENT(where, path, `a ${typeof raw}`),
      );
  }
}

/**
 * Why JSON would lose part of this array, if it would: a hole reads as undefined, and properties
 * other than its items, symbol keys included, are dropped; a subclass is a class instance.
 */
function arrayFlaw(array: readonly unknown[]): string | undefined {
  const proto = Object.getPrototypeOf(array) as unknown;
  // Array.prototype is itself an array, in every realm; a subclass's prototype is not.
  if (!Array.isArray(proto)) return `an instance of ${className(array)}`;
  const keys = Object.keys(array);
  const n = array.length;
  // Own index keys come first, in order: n keys ending with index n - 1 are the n items, no more.
  const dense = keys.length === n && (n === 0 || keys[n - 1] === String(n - 1));
  if (!dense || Object.getOwnPropertySymbols(array).length > 0) {
    return keys.length < n && !keys.some((k) => !/^\d+$/.test(k))
      ? 'an array with holes'
      : 'an array with properties besides its items';
  }
  return undefined;
}

function isPlain(value: object): boolean {
  return isPlainProto(value) && Object.getOwnPropertySymbols(value).length === 0;
}

// Plain objects and Dates from another realm (a vm context, jest's test sandbox, structuredClone
// there) are plain data too, so neither check may compare with this realm's Object or Date.
const OBJECT_SOURCE = Function.prototype.toString.call(Object);

function isPlainProto(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === null || proto === Object.prototype) return true;
  if (Object.getPrototypeOf(proto) !== null) return false;
  const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  return typeof ctor === 'function' && Function.prototype.toString.call(ctor) === OBJECT_SOURCE;
}

function className(value: object): string {
  return (value.constructor as { name?: string } | undefined)?.name || 'an unnamed class';
}

function describe(name: string): string {
  return name === ''
    ? 'the argument list'
    : /^\d+$/.test(name)
      ? `index ${name}`
      : `property "${name}"`;
}
