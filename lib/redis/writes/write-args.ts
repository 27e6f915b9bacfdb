import { SingleflightArgumentError } from '../../core/singleflight.errors.js';
import * as messages from '../redis.messages.js';

/** Thrown inside the replacer; turned into the named error with the path it was found at. */
class NotJson {
  constructor(
    readonly path: string,
    readonly what: string,
  ) {}
}

/**
 * The arguments of a distributed MergeWrites call as JSON, the form they travel in through Redis.
 * Values JSON would drop or garble without a trace (functions, symbols, BigInt, Map, Set, cycles)
 * fail the call with a SingleflightArgumentError; Dates become ISO strings, as everywhere in JSON.
 * Trailing `undefined` arguments are left out, so an omitted optional parameter stays omitted.
 */
export function encodeArgs(key: string, args: readonly unknown[]): string {
  if (!Array.isArray(args)) {
    throw new SingleflightArgumentError(
      messages.WRITE_ARGS_NOT_JSON(key, 'the argument list', `${typeof args}, not an array`),
    );
  }
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  const list = end === args.length ? args : args.slice(0, end);
  try {
    return JSON.stringify(list, function (this: unknown, name: string, value: unknown) {
      const path = this === list ? `argument ${Number(name) + 1}` : `property "${name}"`;
      const what = unsupported(value);
      if (what !== undefined) throw new NotJson(path, what);
      return value;
    });
  } catch (error) {
    if (error instanceof NotJson) {
      throw new SingleflightArgumentError(
        messages.WRITE_ARGS_NOT_JSON(key, error.path, error.what),
      );
    }
    // JSON's own TypeError: a cycle, or a toJSON/getter that threw.
    throw new SingleflightArgumentError(
      messages.WRITE_ARGS_NOT_JSON(
        key,
        'the argument list',
        `not encodable (${error instanceof Error ? error.message : String(error)})`,
      ),
      { cause: error },
    );
  }
}

function unsupported(value: unknown): string | undefined {
  switch (typeof value) {
    case 'function':
    case 'symbol':
    case 'bigint':
      return `a ${typeof value}`;
    case 'object':
      if (value instanceof Map) return 'a Map';
      if (value instanceof Set) return 'a Set';
      return undefined;
    default:
      return undefined;
  }
}
