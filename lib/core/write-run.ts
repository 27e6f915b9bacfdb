import { AsyncResource } from 'node:async_hooks';
import type { RetryOptions } from './write-group.interfaces.js';
import type { WaitNode } from './wait-for.js';

/** A run's work, as WriteGroup.do takes it. */
export type Run<A extends unknown[], T> = (...args: A) => T | PromiseLike<T>;

/**
 * One run of a key: what it calls, and its place in re-entry detection. A key's first run is its
 * KeyState, each later run its Pending: no object is made for it. With detectAsyncReentry it is a
 * node of the wait-for graph too: a pending run waits for its key's current run, a run for the
 * runs its work's calls wait for.
 */
export abstract class Frame implements WaitNode {
  waitsOn: Map<WaitNode, number> | undefined = undefined;
  constructor(
    readonly key: string,
    /**
     * What the run calls, as `fn(...args)`, and how it tries again: a pending run takes the
     * newest call's, and they are fixed once it starts. `args` is cleared when the run settles.
     */
    public fn: Run<unknown[], unknown>,
    public args: unknown[] | undefined,
    public retry: RetryOptions | undefined,
    /**
     * The run whose work made the call this run is for, if any (for a pending run, the newest
     * such call's). Cleared when this run settles: a settled run waits for nothing, and keeps no
     * chain of runs alive.
     */
    public parent: Frame | undefined,
  ) {}
}

/** The one run that waits for the current one to settle, shared by every call made meanwhile. */
export class Pending extends Frame {
  // Declared before the promise, whose executor sets them: fields are set in this order.
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  /**
   * The async context of the call whose `fn` it runs (the newest): its work runs there, as that
   * call's own run would, and not in the context of the run before it (another caller's request,
   * user or trace).
   */
  scope = new AsyncResource('MergeWrites');
  readonly promise = new Promise<unknown>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** A key with a run in progress; also the frame of that key's first run. */
export class KeyState extends Frame {
  pending: Pending | undefined = undefined;
  /** The run in progress: this state for the first run, then each Pending as it starts. */
  current: Frame = this;
  constructor(
    /** The keys it is one of (a group's own, or its decorated methods'): it leaves when idle. */
    readonly keys: Map<string, KeyState>,
    key: string,
    fn: Run<unknown[], unknown>,
    args: unknown[] | undefined,
    retry: RetryOptions | undefined,
    parent: Frame | undefined,
  ) {
    super(key, fn, args, retry, parent);
  }
}

/** The run `frame` was called from, if any. */
export function parentOf(frame: Frame): Frame | undefined {
  return frame.parent;
}
