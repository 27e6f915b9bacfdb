import type { AsyncResource } from 'node:async_hooks';
import {
  SingleflightAbortError,
  SingleflightTimeoutError,
} from '../../core/singleflight.errors.js';
import * as messages from '../redis.messages.js';
import type { WriteRun } from './distributed-write-group.interfaces.js';
import type { Carried } from './write-version.js';

export type AnyRun = WriteRun<any[], unknown>;

/**
 * One call of `do()` until it settles. `ver` is written once, when its EVENT's reply comes; a
 * caller settles once a push with `done >= ver` finished. `settled` is set by `claim` alone.
 */
export interface Caller extends Carried {
  readonly run: AnyRun;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  ver: number;
  settled: boolean;
  /**
   * The call's async context (its request, user, trace), kept when the push that carries it may
   * start from another call's: the call found the key busy on this instance, or another instance
   * runs it. Undefined for a call that found the key idle and whose own EVENT took the lease: its
   * push starts from its own call, in its context.
   */
  scope: AsyncResource | undefined;
}

/** Runs `fn` in the async context of `caller`'s call when it kept one, else in the current one. */
export function inCallerScope<T>(caller: Caller, fn: () => T): T {
  return caller.scope === undefined ? fn() : caller.scope.runInAsyncScope(fn);
}

/** Marks `caller` settled and stops its timer; false when it was settled already. */
export function claim(caller: Caller): boolean {
  if (caller.settled) return false;
  caller.settled = true;
  clearTimeout(caller.timer);
  return true;
}

export function rejectCaller(caller: Caller, error: unknown): void {
  if (claim(caller)) caller.reject(error);
}

/** SingleflightTimeoutError, with the text of this wait (waitTimeoutMs, the write stays pending). */
export function waitTimeoutError(key: string, ms: number): SingleflightTimeoutError {
  return new SingleflightTimeoutError(key, ms, messages.WRITE_WAIT_TIMEOUT(key, ms));
}

/** The reason a push's signal aborts: its lease is gone, or may be. */
export function leaseLostError(key: string): SingleflightAbortError {
  return new SingleflightAbortError(key, undefined, messages.WRITE_LEASE_LOST(key));
}

/** SingleflightAbortError for a caller still waiting when the group closes. */
export function closedError(key: string): SingleflightAbortError {
  return new SingleflightAbortError(key, undefined, messages.WRITE_CLOSED(key));
}
