/**
 * What an error keeps when it crosses from the pod that ran the work to the pods that waited for
 * it: plain data, so it fits the result envelope.
 */
export interface RemoteErrorFields {
  name: string;
  message: string;
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
 * @publicApi
 */
export class RemoteFlightError extends Error {
  /** Always true: tells a rebuilt error from one thrown in this process. */
  readonly remote = true as const;
  readonly code?: string | number;
  readonly status?: number;
  readonly response?: unknown;

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
 * @publicApi
 */
export function isRemoteError(error: unknown): error is RemoteFlightError {
  return error instanceof Error && (error as { remote?: unknown }).remote === true;
}
