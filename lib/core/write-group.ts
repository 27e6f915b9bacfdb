import type {
  RetryOptions,
  WriteCallOptions,
  WriteGroupOptions,
  WriteGroupStats,
} from './write-group.interfaces.js';
import {
  FUNCTION,
  type OptionRule,
  assertFn,
  assertKey,
  isPlainObject,
  isPositiveInt,
  validateOptions,
} from './options.validator.js';
import { toError } from './singleflight.errors.js';

type Run<A extends unknown[], T> = (...args: A) => T | PromiseLike<T>;

export const RETRY: OptionRule = [
  '{ attempts: integer >= 1, backoffMs?: number >= 0 | function }',
  (v) =>
    isPlainObject(v) &&
    isPositiveInt(v.attempts) &&
    (v.backoffMs === undefined ||
      typeof v.backoffMs === 'function' ||
      (typeof v.backoffMs === 'number' && v.backoffMs >= 0 && Number.isFinite(v.backoffMs))),
];
const GROUP_RULES = { retry: RETRY } as const;
const CALL_RULES = {
  args: ['an array', Array.isArray],
  merge: FUNCTION,
  retry: RETRY,
} as const satisfies Record<string, OptionRule>;

/** The one run that waits for the current one to settle, shared by every call made meanwhile. */
class Pending {
  readonly promise: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  constructor(
    public fn: Run<unknown[], unknown>,
    public args: unknown[] | undefined,
    public retry: RetryOptions | undefined,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

class KeyState {
  pending: Pending | undefined = undefined;
}

/**
 * The write side: per key at most one run in flight, and the calls made during a run merged into
 * ONE follow-up run with the newest state. Every caller settles with the first run that started
 * after it called, so the last run always carries the newest call.
 *
 * ```ts
 * const writes = new WriteGroup({ retry: { attempts: 3, backoffMs: 100 } });
 * // The state is read when the run starts, so the last run pushes the newest one.
 * await writes.do(`push:${id}`, async () => downstream.push(await store.latest(id)));
 * // Or pass the arguments: the newest call's win (or merge them).
 * await writes.do(`push:${id}`, (state: State) => downstream.push(state), { args: [state] });
 * ```
 * @publicApi
 */
export class WriteGroup {
  readonly #keys = new Map<string, KeyState>();
  readonly #counts = { calls: 0, runs: 0, coalesced: 0, failures: 0, retries: 0 };
  readonly #retry: RetryOptions | undefined;

  /** A group of its own. Bad options throw a SingleflightOptionsError here. */
  constructor(options: WriteGroupOptions = {}) {
    validateOptions('WriteGroup options', options, GROUP_RULES);
    this.#retry = options.retry;
  }

  /**
   * Runs `fn` now if `key` is idle; otherwise waits for the current run and then runs the newest
   * call's `fn` once for every call made meanwhile (or `fn(...merge(...))` of their arguments).
   */
  do<T, A extends unknown[] = []>(
    key: string,
    fn: Run<A, T>,
    options?: WriteCallOptions<A>,
  ): Promise<T> {
    try {
      assertKey(key);
      assertFn(key, fn);
      if (options !== undefined) validateOptions('MergeWrites call options', options, CALL_RULES);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#counts.calls++;
    const run = fn as Run<unknown[], unknown>;
    const args = options?.args;
    const retry = options?.retry ?? this.#retry;
    const state = this.#keys.get(key);
    if (state === undefined) {
      const idle = new KeyState();
      this.#keys.set(key, idle);
      return this.#run(key, idle, run, args, retry) as Promise<T>;
    }
    const pending = state.pending;
    if (pending === undefined) {
      state.pending = new Pending(run, args, retry);
      return state.pending.promise as Promise<T>;
    }
    const merge = options?.merge as ((a: unknown[], b: unknown[]) => unknown[]) | undefined;
    let merged: unknown[] | undefined;
    try {
      merged =
        merge && pending.args !== undefined && args !== undefined
          ? merge(pending.args, args)
          : args;
    } catch (error) {
      // A throwing merge fails only this call (as a rejection, like every other error of do()),
      // and the pending run keeps the fn and args it had: nothing is half-replaced.
      return Promise.reject(toError(key, error));
    }
    this.#counts.coalesced++;
    pending.fn = run;
    pending.args = merged;
    pending.retry = retry;
    return pending.promise as Promise<T>;
  }

  /** Counters since the group was made, and the number of keys with a run in progress. */
  stats(): WriteGroupStats {
    return { ...this.#counts, size: this.#keys.size };
  }

  #run(
    key: string,
    state: KeyState,
    fn: Run<unknown[], unknown>,
    args: unknown[] | undefined,
    retry: RetryOptions | undefined,
  ): Promise<unknown> {
    this.#counts.runs++;
    // The next run starts in these handlers, before this run's callers hear the outcome.
    return this.#attempt(key, fn, args, retry).then(
      (value) => {
        this.#next(key, state);
        return value;
      },
      (error: unknown) => {
        this.#counts.failures++;
        this.#next(key, state);
        throw error;
      },
    );
  }

  async #attempt(
    key: string,
    fn: Run<unknown[], unknown>,
    args: unknown[] | undefined,
    retry: RetryOptions | undefined,
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await (args === undefined ? fn() : fn(...args));
      } catch (thrown) {
        const error = toError(key, thrown);
        if (retry === undefined || attempt >= retry.attempts) throw error;
        this.#counts.retries++;
        let wait: number;
        try {
          wait = backoffDelay(retry, attempt, error);
        } catch {
          // A backoff that throws ends the retries; the callers get the work's own error.
          throw error;
        }
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  #next(key: string, state: KeyState): void {
    const pending = state.pending;
    if (pending === undefined) {
      this.#keys.delete(key);
      return;
    }
    state.pending = undefined;
    this.#run(key, state, pending.fn, pending.args, pending.retry).then(
      pending.resolve,
      pending.reject,
    );
  }
}

/** The wait (ms) before try `attempt + 1`: `backoffMs * 2^(attempt-1)`, or the user's function. */
export function backoffDelay(retry: RetryOptions, attempt: number, error: Error): number {
  const { backoffMs = 0 } = retry;
  return typeof backoffMs === 'function'
    ? backoffMs(attempt, error)
    : backoffMs * 2 ** (attempt - 1);
}
