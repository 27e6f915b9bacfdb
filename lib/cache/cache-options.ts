import { Group } from '../core/group.js';
import {
  BOOLEAN,
  MAX_TIMER_MS,
  type OptionRule,
  isDuration,
  isPlainObject,
} from '../core/options.validator.js';

/** A Keyv instance, as cache-manager's `stores` hold them. */
export const isKeyv = (v: unknown) =>
  isPlainObject(v) &&
  typeof v.get === 'function' &&
  typeof v.set === 'function' &&
  typeof v.delete === 'function' &&
  typeof v.on === 'function';

/** A cache-manager 7 Cache: what createCache() returns, and the app's CACHE_MANAGER. */
export const isCache = (v: unknown) =>
  isPlainObject(v) &&
  typeof v.get === 'function' &&
  typeof v.set === 'function' &&
  typeof v.del === 'function' &&
  Array.isArray(v.stores) &&
  v.stores.length > 0 &&
  v.stores.every(isKeyv);

/** The store timeout: a timer, so at most 2^31 - 1 ms (a longer one would fire at once). */
export const STORE_TIMEOUT: OptionRule = [
  'a number of milliseconds from 1 to 2147483647 (2^31 - 1, the longest timer)',
  (v) => isDuration(v) && (v as number) >= 1 && (v as number) <= MAX_TIMER_MS,
];

export const KEYV_STORES: OptionRule = [
  'a non-empty array of Keyv instances, e.g. [new Keyv({ store: new KeyvRedis(url) })]',
  (v) => Array.isArray(v) && v.length > 0 && v.every(isKeyv),
];

/** Codecs of classes; each one is checked when the codec is made. */
export const CODECS: OptionRule = [
  'an array of codecs ({ type, encode, decode, name? })',
  (v) => Array.isArray(v),
];

/** The options of `new FlightCache(cache, options)`. */
export const FLIGHT_CACHE_RULES = {
  local: BOOLEAN,
  timeout: STORE_TIMEOUT,
  logger: [
    'an object with a warn(message, error) method',
    (v) => isPlainObject(v) && typeof v.warn === 'function',
  ],
  group: ['a Group (the one whose flights run load)', (v) => v instanceof Group],
  codecs: CODECS,
} as const satisfies Record<string, OptionRule>;
