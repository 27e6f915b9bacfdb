import { SingleflightArgumentError, SingleflightOptionsError } from './singleflight.errors.js';
import * as messages from './singleflight.messages.js';

/**
 * One allowed option: what it must be (for the message) and the check; for an object option, the
 * rules of its own fields, checked like the options themselves (unknown names too).
 */
export type OptionRule = readonly [
  expected: string,
  check: (value: unknown) => boolean,
  fields?: OptionRules,
];
export type OptionRules = Readonly<Record<string, OptionRule>>;

export const isDuration = (v: unknown) => typeof v === 'number' && v >= 0 && Number.isFinite(v);
export const isPositiveInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
export const isBoolean = (v: unknown) => typeof v === 'boolean';
export const isFunction = (v: unknown) => typeof v === 'function';
export const isSignal = (v: unknown) => v instanceof AbortSignal;
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The longest delay a Node timer takes: a longer one fires after 1 ms (with a warning), so an option
 * that sets a timer must not exceed it. About 24.8 days.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `rule`, for an option that sets a timer: also at most MAX_TIMER_MS, so a long duration is
 * refused at start-up instead of firing after 1 ms.
 */
export const forTimer = ([expected, check]: OptionRule): OptionRule => [
  `${expected} and at most ${MAX_TIMER_MS} (2^31 - 1, about 24.8 days: the longest a timer waits)`,
  (v) => check(v) && (v as number) <= MAX_TIMER_MS,
];

export const DURATION: OptionRule = ['a finite number of milliseconds >= 0', isDuration];
export const POSITIVE_DURATION: OptionRule = [
  'a finite number of milliseconds > 0',
  (v) => isDuration(v) && (v as number) > 0,
];
export const POSITIVE_MS: OptionRule = ['an integer number of milliseconds >= 1', isPositiveInt];
export const BOOLEAN: OptionRule = ['true or false', isBoolean];
export const FUNCTION: OptionRule = ['a function', isFunction];
export const SIGNAL: OptionRule = ['an AbortSignal', isSignal];

/**
 * Throws a SingleflightOptionsError for an unknown option name or a bad value. `undefined` values
 * count as not given, so spreading defaults stays simple. An option an object inherits (a getter
 * of its class) is read as the engines read it, so it is checked too.
 *
 * Returns the options as read: each value is read once, checked, and kept in a plain object, so a
 * getter that answers differently on a second read cannot slip a value past the check. An engine
 * that reads options on every call uses what this returns.
 */
export function validateOptions<O>(where: string, options: O, rules: OptionRules): O {
  if (options === undefined) return options;
  if (!isPlainObject(options)) {
    throw new SingleflightOptionsError(messages.BAD_OPTION(where, 'options', 'an object', options));
  }
  const read: Record<string, unknown> = {};
  for (const name of Object.keys(options)) {
    // Own rules only: a name such as "constructor" or "toString" is unknown, not Object's.
    const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
    if (rule === undefined) {
      throw new SingleflightOptionsError(messages.UNKNOWN_OPTION(where, name, Object.keys(rules)));
    }
    read[name] = checkOption(where, name, options[name], rule);
  }
  if (Object.getPrototypeOf(options) !== Object.prototype) {
    for (const name of Object.keys(rules)) {
      if (!Object.hasOwn(options, name) && name in options) {
        read[name] = checkOption(where, name, options[name], rules[name]!);
      }
    }
  }
  return read as O;
}

/** The value of one option, checked (and for an object option, its fields read once too). */
function checkOption(where: string, name: string, value: unknown, rule: OptionRule): unknown {
  if (value === undefined) return undefined;
  if (!rule[1](value)) {
    throw new SingleflightOptionsError(messages.BAD_OPTION(where, name, rule[0], value));
  }
  return rule[2] === undefined ? value : validateOptions(`"${name}" of ${where}`, value, rule[2]);
}

export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new SingleflightArgumentError(messages.INVALID_KEY(key));
}

export function assertFn(key: string, fn: unknown): asserts fn is (...args: never[]) => unknown {
  if (typeof fn !== 'function') throw new SingleflightArgumentError(messages.INVALID_FN(key, fn));
}
