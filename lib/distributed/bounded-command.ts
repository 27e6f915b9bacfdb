import { SingleflightCoordinationError } from './coordination.error.js';

/** How long a coordination command may take unless the adapter is told otherwise. */
export const DEFAULT_OP_TIMEOUT_MS = 250;

/**
 * Runs one Redis command under our own timer. The clients' timeouts are not enough: node-redis's
 * `commandOptions.timeout` only covers commands not yet written to the socket, so a hung server
 * (SIGSTOP, a stalled network) would hold the caller forever. On timeout `signal` aborts, so a
 * client that supports it drops the command if it still sits in its offline queue. Whatever fails
 * comes out as a SingleflightCoordinationError; the timer is cleared as soon as the command
 * settles and never keeps the process alive.
 */
export function bounded<T>(
  operation: string,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      reject(new SingleflightCoordinationError(operation, 'timeout', { timeoutMs: ms }));
      controller.abort();
    }, ms);
    timer.unref();
    let command: Promise<T>;
    try {
      command = run(controller.signal);
    } catch (error) {
      command = Promise.reject(error);
    }
    // A reply that arrives after the timeout settles nothing: the promise is already rejected.
    command.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
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
