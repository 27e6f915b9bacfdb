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

export const NOT_A_CACHE = (where: string, value: unknown) =>
  `${where} needs a cache-manager Cache (createCache() of cache-manager 7, or the app's ` +
  `CACHE_MANAGER), got ${typeof value} (${show(value)}).`;

export const NO_CALL_KEY = (className: string, method: unknown) =>
  `FlightCache.invalidate(${className || 'a class'}, ${show(method)}, ...args) builds the key of a ` +
  "decorated method's call, which only the FlightCache that SingleflightModule provides can do. " +
  'On a FlightCache of your own, give the whole key: invalidate(`Class.method:<key>`).';
