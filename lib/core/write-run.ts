import { AsyncResource } from 'node:async_hooks';
import type { RetryOptions } from './write-group.interfaces.js';
import type { WaitNode } from './wait-for.js';

/** A run's work, as WriteGroup.do takes it. */
export type Run<A extends unknown[], T> = (...args: A) => T | PromiseLike<T>;

/**
 * One run, as re-entry detection sees it. A key's first run is its KeyState, each later run its
 * Pending: no object is made for it. With detectAsyncReentry it is a node of the wait-for graph
 * too: a pending run waits for its key's current run, a run for the runs its work's calls wait for.
 */
export interface Frame extends WaitNode {
  /**
   * The run whose work made the call this run is for, if any. Cleared when this run settles: a
   * settled run waits for nothing, and keeps no chain of runs alive.
   */
  parent: Frame | undefined;
  /** What the run calls, as `fn(...args)`, and how it tries again: fixed once the run starts. */
  fn: Run<unknown[], unknown>;
  args: unknown[] | undefined;
  retry: RetryOptions | undefined;
}

/** The one run that waits for the current one to settle, shared by every call made meanwhile. */
export class Pending implements Frame {
  readonly promise: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  waitsOn: Map<WaitNode, number> | undefined = undefined;
  /**
   * The async context of the call whose `fn` it runs (the newest): its work runs there, as that
   * call's own run would, and not in the context of the run before it (another caller's request,
   * user or trace).
   */
  scope = new AsyncResource('MergeWrites');
  constructor(
    readonly key: string,
    public fn: Run<unknown[], unknown>,
    public args: unknown[] | undefined,
    public retry: RetryOptions | undefined,
    /** The run the newest of its calls made from inside a run came from. */
    public parent: Frame | undefined,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** A key with a run in progress; also the frame of that key's first run. */
export class KeyState implements Frame {
  pending: Pending | undefined = undefined;
  /** The run in progress: this state for the first run, then each Pending as it starts. */
  current: Frame = this;
  waitsOn: Map<WaitNode, number> | undefined = undefined;
  constructor(
    readonly key: string,
    readonly fn: Run<unknown[], unknown>,
    /** Cleared when the first run settles: the key's later runs keep no stale arguments. */
    public args: unknown[] | undefined,
    readonly retry: RetryOptions | undefined,
    public parent: Frame | undefined,
  ) {}
}

/** The run `frame` was called from, if any. */
export function parentOf(frame: Frame): Frame | undefined {
  return frame.parent;
}
