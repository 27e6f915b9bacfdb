// The texts of caching after the flight. Each says what went wrong and what to do.
import { show } from '../core/singleflight.messages.js';

// Caching after the flight (lib/cache)

export const STORE_FAILED = (key: string | undefined) =>
  `${key === undefined ? 'A cache store failed' : `The cache store failed for key "${key}"`}; ` +
  'the call ran without it.';

export const STORE_TIMEOUT = (ms: number) => `cache store gave no answer within ${ms} ms`;

export const BAD_TTL = (key: string, ttl: unknown) =>
  `The ttl of key "${key}" is ${typeof ttl === 'number' ? show(ttl) : `${typeof ttl} (${show(ttl)})`}, ` +
  'not a number of milliseconds, so the value was not cached. Give a finite number ' +
  '(0 or less: do not cache). Shown once per method.';

export const POLICY_THREW = (key: string) =>
  `The ttl or shouldCache function of key "${key}" threw, so the value was not cached (see the ` +
  'error). Shown once per method.';

export const REFRESH_FAILED = (key: string) =>
  `The background refresh (refreshThreshold) of key "${key}" failed; the cached value is ` +
  'answered until its ttl ends, and the next call after that runs the work.';

export const REFRESH_GIVEN_UP = (key: string, ms: number) =>
  `The background refresh (refreshThreshold) of key "${key}" has not settled within ${ms} ms, ` +
  "its refreshThreshold, and is given up: the key may be refreshed again, and this refresh's " +
  'value, if it comes, is not stored. Check what the work waits on (a call without a timeout?).';

export const NOT_A_CACHE = (where: string, value: unknown) =>
  `${where} needs a cache-manager Cache (createCache() of cache-manager 7, or the app's ` +
  `CACHE_MANAGER), got ${typeof value} (${show(value)}).`;

export const NO_CALL_KEY = (className: string, method: unknown) =>
  `FlightCache.invalidate(${className || 'a class'}, ${show(method)}, ...args) builds the key of a ` +
  "decorated method's call, which only the FlightCache that SingleflightModule provides can do. " +
  'On a FlightCache of your own, give the whole key: invalidate(`Class.method:<key>`).';

// The codec of stored and shared values (value-codec.ts)

export const BAD_CODEC = (where: string, codec: unknown, problem: string) =>
  `A codec in ${where} is malformed (${problem}): give { type: YourClass, encode(value), ` +
  `decode(data) } and optionally a name. Got ${show(codec)}.`;

export const DUPLICATE_CODEC = (where: string, name: string) =>
  `Two codecs in ${where} have the name "${name}" or the same class: each class needs one codec, ` +
  'with a name of its own (`name`), so that a stored value finds its codec again.';

export const CODEC_THREW = (name: string, which: 'encode' | 'decode', error: unknown) =>
  `the ${which} of codec "${name}" threw (${error instanceof Error ? error.message : show(error)})`;

export const NOT_ENCODABLE = (key: string, why: string) =>
  `The value of key "${key}" was not cached: it cannot be encoded (${why}). The call got its value; ` +
  'give its class a codec (`codecs`), or return plain data, Dates, Maps, Sets or Buffers. ' +
  'Shown once per method.';

export const STORED_UNREADABLE = (key: string, why: string) =>
  `The cache store's value of key "${key}" was read as a miss and will be replaced: ${why}. ` +
  'Check that no other code or app writes these keys (give a shared store a namespace) and that ' +
  'every instance has the same codecs. Logged once.';
