import { isObservable } from 'rxjs';
import { argsKey } from '../../core/keys.js';
import { SingleflightKeyError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';
import { type KeyContext, contextualPart } from './key-context.js';
import type {
  MergeWritesOptions,
  SingleFlightOptions,
} from '../interfaces/flight-options.interface.js';

/** A decorator's key: one for every call, a function of the call (with `this`), or the default. */
export type KeySource = string | ((this: any, ...args: any[]) => string) | undefined;

/** What a method returns, as far as `design:returntype` tells at decoration. */
export type ReturnKind = 'promise' | 'observable' | 'unknown';

/** What a decorator recorded about one method; shared by every app that uses the class. */
export interface FlightMetadata {
  decorator: 'SingleFlight' | 'MergeWrites';
  /** The `scope` option, else `Class.method` (see scopeOf): the part of every key before ':'. */
  scope: string;
  keySource: KeySource;
  returns: ReturnKind;
  options: SingleFlightOptions | MergeWritesOptions;
  /** The last app that ran this method, and its strategy there: one app needs no lookup. */
  runner?: object;
  strategy?: unknown;
}

/**
 * The part of a call's key after `Class.method:`: the decorator's key, its key function's, or the
 * arguments' (empty without arguments), under the call's context when the method has one (see
 * contextualPart). The whole key is `${meta.scope}:${part}`. A key function is called with the
 * method's `this`, so on a request-scoped provider it can read the caller.
 */
export function keyPartOf(
  meta: FlightMetadata,
  self: object,
  args: unknown[],
  context: KeyContext | undefined,
): string {
  const part = ownPart(meta, self, args);
  return context === undefined ? part : contextualPart(meta.scope, context, part);
}

/** The key part the method's own key gives: the decorator's, its key function's or the arguments'. */
function ownPart(meta: FlightMetadata, self: object, args: unknown[]): string {
  const source = meta.keySource;
  if (typeof source === 'string') return source;
  if (source === undefined) return args.length === 0 ? '' : argsKey(args, meta.scope);
  let key: unknown;
  try {
    // Most key functions take one argument: calling them without a spread is measurably faster.
    key = args.length === 1 ? source.call(self, args[0]) : source.apply(self, args);
  } catch (error) {
    throw new SingleflightKeyError(messages.KEY_FN_THREW(meta.scope), { cause: error });
  }
  if (typeof key !== 'string') {
    throw new SingleflightKeyError(messages.KEY_FN_NOT_STRING(meta.scope, key));
  }
  return key;
}

/**
 * Reads `design:returntype`: Promise and Observable are known. A type the metadata cannot pin down
 * is unknown, and the first result decides: none (an inferred type), Object (an interface, a
 * union) and Function (a type imported with `import type`, which leaves nothing to point at).
 * Anything else is a synchronous type, named for the error.
 */
export function returnKind(target: object, propertyKey: string | symbol): ReturnKind | string {
  const type: unknown = Reflect.getMetadata('design:returntype', target, propertyKey);
  if (typeof type !== 'function' || type === Object || type === Function) return 'unknown';
  if (type === Promise || type.prototype instanceof Promise) return 'promise';
  if (isObservable(type.prototype) || type.name === 'Observable') return 'observable';
  return type.name || 'a synchronous value';
}

/** Whether a method's result is a Promise or another thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
