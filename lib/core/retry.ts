import type { RetryOptions } from './write-group.interfaces.js';
import {
  MAX_TIMER_MS,
  type OptionRule,
  isDuration,
  isPlainObject,
  isPositiveInt,
} from './options.validator.js';
import { SingleflightOptionsError } from './singleflight.errors.js';
import * as messages from './singleflight.messages.js';

/** A wait a timer can make: 0 to MAX_TIMER_MS ms. */
const isDelay = (v: unknown) => isDuration(v) && (v as number) <= MAX_TIMER_MS;

/** The `retry` option of MergeWrites, checked field by field. */
export const RETRY: OptionRule = [
  '{ attempts, backoffMs? }, with attempts given',
  (v) => isPlainObject(v) && v.attempts !== undefined,
  {
    attempts: ['an integer >= 1 (the tries in all, the first included)', isPositiveInt],
    backoffMs: [
      `a number of milliseconds from 0 to ${MAX_TIMER_MS} (the longest a timer waits), or a ` +
        'function (attempt, error) => ms',
      (v) => typeof v === 'function' || isDelay(v),
    ],
  },
];

/**
 * The wait (ms) before try `attempt + 1`: `backoffMs * 2^(attempt-1)`, doubled up to MAX_TIMER_MS
 * (the longest a timer waits) and no further, or what the user's function returns.
 */
export function backoffDelay(retry: RetryOptions, attempt: number, error: Error): number {
  const { backoffMs = 0 } = retry;
  return typeof backoffMs === 'function'
    ? backoffMs(attempt, error)
    : Math.min(backoffMs * 2 ** (attempt - 1), MAX_TIMER_MS);
}

/**
 * The wait before the next try of a run of `key` whose try `attempt` failed with `error`; throws
 * to end the run instead. A backoff function that throws ends it with the work's own error; one
 * that returns a wait no timer can make (NaN or a negative one would retry at once, one past
 * MAX_TIMER_MS after 1 ms) ends it with a SingleflightOptionsError saying so.
 */
export function retryWait(key: string, retry: RetryOptions, attempt: number, error: Error): number {
  let wait: number;
  try {
    wait = backoffDelay(retry, attempt, error);
  } catch {
    throw error;
  }
  if (!isDelay(wait)) {
    throw new SingleflightOptionsError(messages.BAD_BACKOFF(key, attempt, wait), { cause: error });
  }
  return wait;
}
