import type { SignalListeners } from './signal-listeners.js';

/** Why a caller stopped waiting before its flight settled. */
export type LeaveReason = 'timeout' | 'abort';

/**
 * Waits for `outcome` on behalf of one caller, unless its `timeout` or `signal` fires first. Then
 * `leave(reason)` runs once (the caller leaves its flight, which goes on for the others) and the
 * returned promise rejects with the error `leave` returns. Nothing of the caller is left behind:
 * its timer is cleared and its listener removed, whichever comes first.
 */
export function waitOrLeave<T>(
  outcome: Promise<T>,
  timeout: number | undefined,
  signal: AbortSignal | undefined,
  listeners: SignalListeners,
  leave: (reason: LeaveReason) => Error,
): Promise<T> {
  if (signal?.aborted) {
    // Aborted by the work itself, synchronously: this caller was the only one to hold `outcome`.
    outcome.then(undefined, ignore);
    return Promise.reject(leave('abort'));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      clearTimeout(timer);
      if (signal !== undefined) listeners.remove(signal, onAbort);
    };
    const onAbort = () => {
      stop();
      reject(leave('abort'));
    };
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        stop();
        reject(leave('timeout'));
      }, timeout);
    }
    if (signal !== undefined) listeners.add(signal, onAbort);
    outcome.then(
      (value) => {
        stop();
        resolve(value);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}

function ignore(): void {}
