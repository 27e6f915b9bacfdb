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
 * (class instances such as an HTTP request, functions, symbols, Maps, cycles) throws a
 * SingleflightKeyError rather than being dropped, so two users can never share a result by accident.
 * `where` names the method in the message.
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
    throw new SingleflightKeyError(
      messages.UNSERIALIZABLE_ARGUMENT(where, path, 'a circular reference'),
      { cause: error },
    );
  }
}

function tagged(raw: unknown, value: unknown, where: string, path: string): unknown {
  switch (typeof raw) {
    case 'string':
      return raw.startsWith(TAG) ? TAG + raw : raw;
    case 'number':
      return Number.isFinite(raw) ? raw : `${TAG}${raw}`;
    case 'boolean':
      return raw;
    case 'undefined':
      return `${TAG}undefined`;
    case 'bigint':
      return `${TAG}${raw}n`;
    case 'object':
      if (raw === null || Array.isArray(raw)) return raw;
      if (raw instanceof Date) return `${TAG}date:${raw.getTime()}`;
      if (isPlain(raw)) return value;
      throw new SingleflightKeyError(
        messages.UNSERIALIZABLE_ARGUMENT(where, path, `an instance of ${className(raw)}`),
      );
    default:
      throw new SingleflightKeyError(messages.UNSERIALIZABLE_ARGUMENT(where, path, `a ${typeof raw}`));
  }
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(value).length === 0;
}

function className(value: object): string {
  return (value.constructor as { name?: string } | undefined)?.name || 'an unnamed class';
}

function describe(name: string): string {
  return name === '' ? 'the argument list' : /^\d+$/.test(name) ? `index ${name}` : `property "${name}"`;
}
