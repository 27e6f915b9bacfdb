import * as messages from './singleflight.messages.js';

/**
 * A caller's own `timeout` ran out. Only that caller is rejected; the flight goes on for the others.
 * A distributed `@MergeWrites()` call rejects with it after `waitTimeoutMs` (its write stays
 * pending in Redis).
 *
 * Over HTTP it answers 504 Gateway Timeout: it has the shape of an `http-errors` error (`status`,
 * `statusCode`, `expose: false`), which Nest's exception filter and Express's error handler both
 * honour, and `expose: false` keeps the key out of the response body. To answer otherwise, catch
 * it in an exception filter (`@Catch(SingleflightTimeoutError)`).
 * @publicApi
 */
export class SingleflightTimeoutError extends Error {
  override readonly name = 'SingleflightTimeoutError';
  /** The HTTP status it answers with: 504 Gateway Timeout. */
  readonly status = 504;
  /** The same status under the name Nest and Express read. */
  readonly statusCode = 504;
  /** The message names the key: it is for logs, never for a response body. */
  readonly expose = false;
  /** Made by the library; the message says what happened and what to do. */
  constructor(
    /** The key of the flight (or `@MergeWrites()` push) the caller waited for. */
    readonly key: string,
    /** The timeout (ms) that ran out. */
    readonly timeout: number,
    message = messages.TIMEOUT(key, timeout),
  ) {
    super(message);
  }
}

/**
 * A caller's `AbortSignal` fired (or, given to the work, every caller left). Its `name` is
 * `'AbortError'`, like the DOM's, so code that checks `err.name === 'AbortError'` keeps working;
 * the signal's reason is kept as `cause`. A DistributedWriteGroup also rejects the callers still
 * waiting with it when it closes.
 * @publicApi
 */
export class SingleflightAbortError extends Error {
  override readonly name = 'AbortError';
  /** Made by the library; the message says what happened and what to do. */
  constructor(
    /** The key of the flight (or push) the caller left. */
    readonly key: string,
    reason?: unknown,
    message = messages.ABORTED(key),
  ) {
    super(message, { cause: reason });
  }
}

/**
 * A flight (or a `@MergeWrites()` run) called its own key from inside its work: waiting would
 * deadlock, so the inner call fails.
 * @publicApi
 */
export class SingleflightReentryError extends Error {
  override readonly name = 'SingleflightReentryError';
  /** Made by the library; the message says what happened and what to do. */
  constructor(
    /** The key the flight or run called from inside its own work. */
    readonly key: string,
    message = messages.REENTRY(key),
  ) {
    super(message);
  }
}

/**
 * The work threw something that is not an Error; the thrown value is `cause`.
 * @publicApi
 */
export class SingleflightThrownValueError extends Error {
  override readonly name = 'SingleflightThrownValueError';
  /** Made by the library; the message says what happened and what to do. */
  constructor(
    /** The key of the flight whose work threw. */
    readonly key: string,
    value: unknown,
  ) {
    super(messages.THROWN_VALUE(key, value), { cause: value });
  }
}

/**
 * A key, a function or an argument of the wrong type was passed to the library.
 * @publicApi
 */
export class SingleflightArgumentError extends TypeError {
  override readonly name = 'SingleflightArgumentError';
}

/**
 * An option has an unknown name or a value out of range. Raised when the group, module or
 * decorator is set up, so it shows at start-up rather than at the first call.
 * @publicApi
 */
export class SingleflightOptionsError extends RangeError {
  override readonly name = 'SingleflightOptionsError';
}

/**
 * The default key could not serialize an argument without losing information (a class instance
 * such as an HTTP request, a function, a symbol, a cycle). Give the decorator an explicit key.
 * @publicApi
 */
export class SingleflightKeyError extends TypeError {
  override readonly name = 'SingleflightKeyError';
}

/** Errors pass through unchanged; anything else thrown is wrapped so every waiter gets an Error. */
export function toError(key: string, thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new SingleflightThrownValueError(key, thrown);
}
