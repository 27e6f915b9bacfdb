import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { WriteRunContext } from './distributed-write-group.interfaces.js';
import { type AnyRun, type Caller, inCallerScope } from './write-callers.js';
import type { KeyState } from './write-key-state.js';

/**
 * Where a push runs, and which calls come from inside it. A push runs in the async context of the
 * newest call of ours it carries (outside every call's when it carries none), not in that of the
 * earlier call whose EVENT's or push's handlers it starts from. A call of the key a push is running
 * for, made from inside that push, would wait for itself.
 */
export class PushScope {
  /** With detectAsyncReentry: the key whose push the current async context runs. */
  readonly #context: AsyncLocalStorage<KeyState> | undefined;
  /** The key whose push is running synchronously right now (a re-entry before its first await). */
  #pushing: KeyState | undefined = undefined;
  /** The context the group was made in (no caller's): of a push that carries no call of ours. */
  readonly #outside = new AsyncResource('MergeWrites');

  constructor(detectAsyncReentry: boolean) {
    this.#context = detectAsyncReentry ? new AsyncLocalStorage() : undefined;
  }

  /** Whether this call comes from the running push of `key` itself. */
  isReentry(key: string): boolean {
    const pushing = this.#context?.getStore() ?? this.#pushing;
    // Only while that push runs: a leftover timer of a finished push makes a plain call.
    return pushing !== undefined && pushing.key === key && pushing.runner.running !== undefined;
  }

  /** Runs the push of `state` as `caller` (the newest call of ours it carries, if any). */
  run(
    caller: Caller | undefined,
    state: KeyState,
    run: AnyRun,
    args: unknown[],
    context: WriteRunContext,
  ): Promise<unknown> {
    const push = () => this.#enter(state, run, args, context);
    return caller === undefined ? this.#outside.runInAsyncScope(push) : inCallerScope(caller, push);
  }

  /** Calls the push; while its synchronous part runs, a call of its own key is a re-entry. */
  #enter(
    state: KeyState,
    run: AnyRun,
    args: unknown[],
    context: WriteRunContext,
  ): Promise<unknown> {
    const previous = this.#pushing;
    this.#pushing = state;
    try {
      return this.#context === undefined
        ? run(args, context)
        : this.#context.run(state, run, args, context);
    } finally {
      this.#pushing = previous;
    }
  }
}
