import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type {
  RetryOptions,
  WriteCallOptions,
  WriteGroupOptions,
  WriteGroupStats,
} from './write-group.interfaces.js';
import {
  BOOLEAN,
  FUNCTION,
  type OptionRule,
  assertFn,
  assertKey,
  validateOptions,
} from './options.validator.js';
import { isWithin } from './nesting.js';
import { SingleflightReentryError, toError } from './singleflight.errors.js';
import * as messages from './singleflight.messages.js';
import { RETRY, retryWait } from './retry.js';
import { cycleTo, runAs, waitFor, waitingNode } from './wait-for.js';
import { type Frame, KeyState, Pending, type Run, parentOf } from './write-run.js';

// The distributed write group shares the retry rule and its waits.
export { RETRY, backoffDelay } from './retry.js';

/**
 * How a call entered the runs of its key: its run started at once (the key was idle), it became
 * the follow-up run that waits for the current one, or it merged into that follow-up.
 */
export type WriteEntry = 'ran' | 'queued' | 'merged';

/** Set by WriteGroup's static block: `methodDo` reaches its private `#do` through it. */
let methodDoOf: <T, A extends unknown[]>(
  writes: WriteGroup,
  key: string,
  fn: Run<A, T>,
  options: WriteCallOptions<A> | undefined,
  entered: ((entry: WriteEntry) => void) | undefined,
) => Promise<T>;

const GROUP_RULES = { retry: RETRY, detectAsyncReentry: BOOLEAN } as const;
const CALL_RULES = {
  args: ['an array', Array.isArray],
  merge: FUNCTION,
  retry: RETRY,
} as const satisfies Record<string, OptionRule>;

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
  /** The keys of decorated methods' calls, apart from direct calls' (see `methodDo`). */
  readonly #methodKeys = new Map<string, KeyState>();
  readonly #counts = { calls: 0, runs: 0, coalesced: 0, failures: 0, retries: 0 };
  readonly #retry: RetryOptions | undefined;
  readonly #context: AsyncLocalStorage<Frame> | undefined;
  /** The run whose work is running synchronously right now (re-entry before its first await). */
  #running: Frame | undefined = undefined;

  /** A group of its own. Bad options throw a SingleflightOptionsError here. */
  constructor(options: WriteGroupOptions = {}) {
    validateOptions('WriteGroup options', options, GROUP_RULES);
    this.#retry = options.retry;
    this.#context = options.detectAsyncReentry ? new AsyncLocalStorage() : undefined;
  }

  /**
   * Runs `fn` now if `key` is idle; otherwise waits for the current run and then runs the newest
   * call's `fn` once for every call made meanwhile (or `fn(...merge(...))` of their arguments).
   * A call of `key` from inside its own run (or a run that run waits for) rejects with a
   * SingleflightReentryError: before the work's first `await` always, after it with
   * `detectAsyncReentry`.
   */
  do<T, A extends unknown[] = []>(
    key: string,
    fn: Run<A, T>,
    options?: WriteCallOptions<A>,
  ): Promise<T> {
    return this.#do(this.#keys, key, fn, options, undefined);
  }

  /** Counters since the group was made, and the number of keys with a run in progress. */
  stats(): WriteGroupStats {
    return { ...this.#counts, size: this.#keys.size + this.#methodKeys.size };
  }

  static {
    methodDoOf = (writes, key, fn, options, entered) =>
      writes.#do(writes.#methodKeys, key, fn, options, entered);
  }

  /** Every call: starts the run of `key`, becomes its follow-up or merges into that follow-up. */
  #do<T, A extends unknown[]>(
    keys: Map<string, KeyState>,
    key: string,
    fn: Run<A, T>,
    options: WriteCallOptions<A> | undefined,
    entered: ((entry: WriteEntry) => void) | undefined,
  ): Promise<T> {
    try {
      assertKey(key);
      assertFn(key, fn);
      // Each option is read once, by the check: what is used is what was checked. A decorated
      // method's options are the package's own, made of what its decorator checked at start-up.
      if (options !== undefined && keys === this.#keys)
        options = validateOptions('MergeWrites call options', options, CALL_RULES);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#counts.calls++;
    const run = fn as Run<unknown[], unknown>;
    const args = options?.args;
    const retry = options?.retry ?? this.#retry;
    // The run this call is made from, if any: the parent of the run it starts.
    const caller = this.#context?.getStore() ?? this.#running;
    const state = keys.get(key);
    if (state === undefined) {
      const idle = new KeyState(keys, key, run, args, retry, caller);
      keys.set(key, idle);
      entered?.('ran');
      return this.#waited(idle, this.#run(idle, idle)) as Promise<T>;
    }
    // The next run of `key` waits for the current one: if this call comes from inside it (or
    // from a run it started), the current run would wait for itself.
    if (caller !== undefined && isWithin(caller, state.current, parentOf)) {
      return Promise.reject(new SingleflightReentryError(key, messages.WRITE_REENTRY(key)));
    }
    // With detectAsyncReentry: the current run may wait for this caller through runs of other keys.
    const cycle = this.#context === undefined ? undefined : cycleTo(state.current);
    if (cycle !== undefined) {
      return Promise.reject(new SingleflightReentryError(key, messages.WRITE_REENTRY_CYCLE(cycle)));
    }
    const pending = state.pending;
    if (pending === undefined) {
      const next = (state.pending = new Pending(key, run, args, retry, caller));
      if (this.#context !== undefined) next.waitsOn = new Map([[state.current, 1]]);
      entered?.('queued');
      return this.#waited(next, next.promise) as Promise<T>;
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
    pending.scope = new AsyncResource('MergeWrites');
    pending.args = merged;
    pending.retry = retry;
    if (caller !== undefined) pending.parent = caller;
    entered?.('merged');
    return this.#waited(pending, pending.promise) as Promise<T>;
  }

  /** Runs `frame` (tried again as its retry says), then starts the follow-up run of its key. */
  #run(state: KeyState, frame: Frame): Promise<unknown> {
    this.#counts.runs++;
    // The next run starts in these handlers, before this run's callers hear the outcome.
    return this.#attempt(frame).then(
      (value) => {
        this.#settled(state, frame);
        return value;
      },
      (error: unknown) => {
        this.#counts.failures++;
        this.#settled(state, frame);
        throw error;
      },
    );
  }

  async #attempt(frame: Frame): Promise<unknown> {
    const { key, retry } = frame;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#invoke(frame);
      } catch (thrown) {
        const error = toError(key, thrown);
        if (retry === undefined || attempt >= retry.attempts) throw error;
        this.#counts.retries++;
        const wait = retryWait(key, retry, attempt, error);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /**
   * Calls the work as `frame`, for every try of every run: a retry and the follow-up run are
   * called from a microtask or a timer, where nothing else says which run they belong to.
   */
  #invoke(frame: Frame): unknown {
    // Restore what ran before, not the parent: from a microtask that is nothing, and a stale
    // #running would make outside callers look like re-entries.
    const previous = this.#running;
    this.#running = frame;
    try {
      const { fn, args } = frame;
      const context = this.#context;
      if (context !== undefined) {
        return context.run(frame, runAs, frame, fn, args ?? []);
      }
      return args === undefined ? fn() : fn(...args);
    } finally {
      this.#running = previous;
    }
  }

  /** With detectAsyncReentry, a call from inside a work (a run or a flight): it waits for `run`. */
  #waited(run: Frame, promise: Promise<unknown>): Promise<unknown> {
    // The work may be another engine's (a flight): the graph is one for both.
    const from = this.#context === undefined ? undefined : waitingNode();
    if (from !== undefined) waitFor(from, run, promise);
    return promise;
  }

  /**
   * A run settled: it waits for nothing and keeps neither a chain of runs nor its arguments
   * alive. The follow-up run of its key, if any, starts now; else the key is idle.
   */
  #settled(state: KeyState, frame: Frame): void {
    frame.parent = undefined;
    frame.args = undefined;
    const pending = state.pending;
    if (pending === undefined) {
      state.keys.delete(state.key);
      return;
    }
    state.pending = undefined;
    state.current = pending;
    // It runs now: it waits only for what its work's calls will wait for.
    pending.waitsOn = undefined;
    pending.scope
      .runInAsyncScope(() => this.#run(state, pending))
      .then(pending.resolve, pending.reject);
  }
}

/**
 * `writes.do(key, fn, options)` for a decorated method's call: its keys are apart from those of
 * direct `do()` calls, so a direct call of the same key never merges into a method's follow-up run
 * (and settles its callers with its own `fn`), nor the other way round. With `entered`, tells as
 * the call enters whether its run started at once ('ran'), it became the follow-up run ('queued')
 * or it merged into that follow-up ('merged'); a call refused before either (bad input, a
 * re-entry, a throwing merge) is not told. Internal: the package does not export it.
 */
export function methodDo<T, A extends unknown[] = []>(
  writes: WriteGroup,
  key: string,
  fn: Run<A, T>,
  options: WriteCallOptions<A> | undefined,
  entered: ((entry: WriteEntry) => void) | undefined,
): Promise<T> {
  return methodDoOf(writes, key, fn, options, entered);
}
