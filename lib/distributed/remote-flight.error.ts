/**
 * What an error keeps when it crosses from the pod that ran the work to the pods that waited for
 * it: plain data, so it fits the result envelope.
 * @publicApi
 */
export interface RemoteErrorFields {
  /** The original's `name` (`'Error'` when it had none). */
  name: string;
  /** The original's `message`. */
  message: string;
  /** The original's `code` (e.g. `'ECONNRESET'`), when it was a string or a number. */
  code?: string | number;
  /** HTTP status: `getStatus()` (Nest's HttpException shape), else a numeric `status`/`statusCode`. */
  status?: number;
  /** `getResponse()` of an HttpException-shaped error (the body Nest would send). */
  response?: unknown;
}

/**
 * The error another instance's flight failed with, rebuilt on this instance (errors are shared
 * across instances, as Go shares them across callers). `name`, `message`, `code` and `status` are
 * the original's; the stack is not (it would point into another process). When the original had
 * Nest's HttpException shape (`getStatus()` + `getResponse()`), `status` and `response` are both
 * set, so the Nest layer can re-throw an equivalent HttpException.
 *
 * ```ts
 * try {
 *   await flight.run(key, work);
 * } catch (error) {
 *   if (isRemoteError(error) && error.status === 404) return null; // another instance's 404
 *   throw error;
 * }
 * ```
 * @publicApi
 */
export class RemoteFlightError extends Error {
  /** Always true: tells a rebuilt error from one thrown in this process. */
  readonly remote = true as const;
  /** The original's `code`, when it had one. */
  readonly code?: string | number;
  /** The original's HTTP status, when it had one (see RemoteErrorFields.status). */
  readonly status?: number;
  /** The original's `getResponse()` (an HttpException's body), when it had one. */
  readonly response?: unknown;

  /** Made by DistributedFlight from the fields the failed flight published. */
  constructor(
    /** The flight's key (the caller's, not the hashed Redis key). */
    readonly key: string,
    fields: RemoteErrorFields,
  ) {
    super(fields.message);
    // The original's name, so `err.name === 'NotFoundException'` checks keep working.
    this.name = fields.name;
    if (fields.code !== undefined) this.code = fields.code;
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.response !== undefined) this.response = fields.response;
  }
}

/**
 * Whether `error` was rebuilt from another instance's flight. Duck-typed (`remote === true`), so
 * it also holds across two copies of this package.
 *
 * ```ts
 * if (isRemoteError(error)) logger.warn(`${error.name} from another instance: ${error.message}`);
 * ```
 * @publicApi
 */
export function isRemoteError(error: unknown): error is RemoteFlightError {
  return error instanceof Error && (error as { remote?: unknown }).remote === true;
}
