import { SingleflightCoordinationError } from '../shared/coordination.error.js';

/** How long a coordination command may take unless the adapter is told otherwise. */
export const DEFAULT_OP_TIMEOUT_MS = 250;

/**
 * Runs one Redis command under our own timer. The clients' timeouts are not enough: node-redis's
 * `commandOptions.timeout` only covers commands not yet written to the socket, so a hung server
 * (SIGSTOP, a stalled network) would hold the caller forever. On timeout `signal` aborts, so a
 * client that supports it drops the command if it still sits in its offline queue. Whatever fails
 * comes out as a SingleflightCoordinationError; the timer is cleared as soon as the command
 * settles and never keeps the process alive.
 *
 * Only time the event loop was free counts against the command. Timers run before the loop reads
 * the sockets, so after a stall (synchronous work in the app) the timer would fire before a reply
 * that is already waiting there. So the timer never rejects at once: it yields to I/O first
 * (setImmediate runs after the loop has read the sockets), and a timer that fired late, a sign the
 * loop was stalled and the command may have been sent late too, grants one more period of `ms`.
 * A hung server is still detected: after at most `2 × ms` plus the stall.
 */
export function bounded<T>(
  operation: string,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    let settled = false;
    let timer: ReturnType<typeof setTimeout>;
    const arm = (graced: boolean) => {
      const due = performance.now() + ms;
      timer = setTimeout(() => {
        const late = performance.now() - due > stallMs(ms);
        setImmediate(() => {
          if (settled) return;
          if (late && !graced) return arm(true);
          settled = true;
          reject(new SingleflightCoordinationError(operation, 'timeout', { timeoutMs: ms }));
          controller.abort();
        });
      }, ms);
      timer.unref();
    };
    arm(false);
    let command: Promise<T>;
    try {
      command = run(controller.signal);
    } catch (error) {
      command = Promise.reject(error);
    }
    // A reply that arrives after the timeout settles nothing: the promise is already rejected.
    command.then(
      (value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(
          error instanceof SingleflightCoordinationError
            ? error
            : new SingleflightCoordinationError(operation, 'error', { cause: error }),
        );
      },
    );
  });
}

/** How late (ms) a timer of `ms` may fire on a busy but healthy loop before it counts as a stall. */
function stallMs(ms: number): number {
  return Math.max(10, ms / 10);
}
