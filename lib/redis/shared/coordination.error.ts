import * as messages from '../redis.messages.js';

/**
 * Why a command failed: no reply in time, an error from Redis or the client, or the adapter was
 * closed.
 * @publicApi
 */
export type CoordinationFailure = 'timeout' | 'error' | 'closed';

/**
 * A Redis command of a coordinator adapter failed or got no reply within `opTimeoutMs`. The
 * distributed flights treat it as "Redis is unavailable" and run locally; it never reaches the
 * callers of a flight. The client's own error, if any, is kept as `cause`. You meet it when you
 * call a coordinator yourself, and in the log line of an outage.
 *
 * ```ts
 * await coordinator.get('some:key').catch((error: unknown) => {
 *   if (error instanceof SingleflightCoordinationError && error.reason === 'timeout') return null;
 *   throw error;
 * });
 * ```
 * @publicApi
 */
export class SingleflightCoordinationError extends Error {
  override readonly name = 'SingleflightCoordinationError';
  /** Made by the adapters; `details.cause` is the client's own error. */
  constructor(
    /** The Redis command, e.g. `'GET'` or `'EVALSHA singleflight:acquire'` (never a key). */
    readonly operation: string,
    /** Why it failed. */
    readonly reason: CoordinationFailure,
    details: { timeoutMs?: number; cause?: unknown } = {},
  ) {
    super(
      reason === 'timeout'
        ? messages.COORDINATOR_TIMEOUT(operation, details.timeoutMs ?? 0)
        : reason === 'closed'
          ? messages.COORDINATOR_CLOSED(operation)
          : messages.COORDINATOR_COMMAND_FAILED(operation, details.cause),
      { cause: details.cause },
    );
  }
}
