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
  /** An HttpException's `getStatus()`; for any other error its own numeric `status`, if any. */
  status?: number;
  /** The original's own numeric `statusCode` (http-errors, Fastify), if any. */
  statusCode?: number;
  /** The original's own boolean `expose` (http-errors: whether its message may reach a client). */
  expose?: boolean;
  /** True when the original was a Nest HttpException: only then do `response` and `errorCode` travel. */
  httpException?: true;
  /** An HttpException's `getResponse()` (the body Nest sends for it). */
  response?: unknown;
  /** An HttpException's `errorCode`, if any. */
  errorCode?: string;
}

/**
 * The error another instance's flight failed with, rebuilt on this instance (errors are shared
 * across instances, as Go shares them across callers). `name`, `message`, `code`, `status`,
 * `statusCode` and `expose` are the original's; the stack is not (it would point into another
 * process). Only an original Nest HttpException brings its `response` (`httpException` true), so
 * the Nest layer re-throws an equivalent HttpException; any other error's message is for logs, and
 * Nest answers it as it answered the original (500, unless http-errors fields say otherwise).
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
  declare readonly code?: string | number;
  /** See RemoteErrorFields.status. */
  declare readonly status?: number;
  /** See RemoteErrorFields.statusCode. */
  declare readonly statusCode?: number;
  /** See RemoteErrorFields.expose. */
  declare readonly expose?: boolean;
  /** True when the original was a Nest HttpException. */
  declare readonly httpException?: true;
  /** An HttpException's `getResponse()` (its body). */
  declare readonly response?: unknown;
  /** An HttpException's `errorCode`. */
  declare readonly errorCode?: string;

  /** Made by DistributedFlight from the fields the failed flight published. */
  constructor(
    /** The flight's key (the caller's, not the hashed Redis key). */
    readonly key: string,
    fields: RemoteErrorFields,
  ) {
    super(fields.message);
    // The original's name, so `err.name === 'NotFoundException'` checks keep working.
    this.name = fields.name;
    // Only the fields RemoteErrorFields names (an envelope cannot set `key` or `remote`), and
    // only those the original had.
    for (const field of FIELDS) {
      if (fields[field] !== undefined) Object.assign(this, { [field]: fields[field] });
    }
  }
}

const FIELDS = [
  'code',
  'status',
  'statusCode',
  'expose',
  'httpException',
  'response',
  'errorCode',
] as const satisfies ReadonlyArray<keyof RemoteErrorFields>;

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
