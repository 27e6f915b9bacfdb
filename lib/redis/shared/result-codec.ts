import { isPlainObject } from '../../core/options.validator.js';
import type { ValueCodec } from '../../cache/value-codec.js';
import type { RemoteErrorFields } from '../flight/remote-flight.error.js';

/**
 * The result envelope of a distributed flight, as stored in `…:res` (docs/redis-flight.md, "Results"):
 *
 * - `{"f":2,"t":token,"ok":1,"v":value}`: the work's value, as the ValueCodec writes it;
 * - `{"f":2,"t":token,"ok":0,"e":{name,message,code,status,response}}`: the work's error;
 * - `{"f":2,"t":token,"skip":1}`: the value cannot be shared; waiting instances run the work
 *   themselves.
 *
 * The value's codec is the cache's (ValueCodec), so a value has the same type whether it came
 * from the leader, from another instance's flight or, later, from the cache: a `Date` stays a
 * Date, a Map a Map, a class instance with a codec an instance of its class.
 *
 * The leader ALSO returns `decode(encode(value))`, so callers on
 * every instance get equal values. A value the codec cannot encode (a class without a codec, a
 * cycle, a function) or one whose envelope is larger than `maxResultBytes` is not shared: the
 * envelope says `skip` and the leader returns its original value. `f` is the format version
 * (1: the plain JSON of 0.1); an envelope of another version, one that does not parse or a value
 * that does not decode reads as `skip`, so a rolling deploy that changes the format costs extra
 * calls, never wrong results.
 */
export const FORMAT = 2;

export type DecodedResult =
  | { kind: 'ok'; token: string | undefined; value: unknown }
  | { kind: 'error'; token: string | undefined; error: RemoteErrorFields }
  | { kind: 'skip'; token: string | undefined };

/** The envelope to store, and the value the leader's own callers get. */
export interface EncodedValue {
  envelope: string;
  /** `decode(encode(value))`, or the original value when it is not shared (`shared` false). */
  value: unknown;
  shared: boolean;
  /** Why the codec could not encode the value (then `shared` is false). */
  unencodable?: string;
}

export function encodeValue(
  token: string,
  value: unknown,
  maxBytes: number,
  codec: ValueCodec,
): EncodedValue {
  const unshared = (error: unknown): EncodedValue => {
    const unencodable = error instanceof Error ? error.message : String(error);
    return { envelope: encodeSkip(token), value, shared: false, unencodable };
  };
  let data: unknown;
  try {
    data = codec.toData(value);
  } catch (error) {
    return unshared(error);
  }
  const envelope = `{"f":${FORMAT},"t":${JSON.stringify(token)},"ok":1,"v":${JSON.stringify(data)}}`;
  if (!fits(envelope, maxBytes)) return { envelope: encodeSkip(token), value, shared: false };
  try {
    // Decoded here too (once it fits), so that a codec whose decode fails keeps the value from
    // being shared rather than failing the leader's callers (or every follower's decode).
    return { envelope, value: codec.fromData(data), shared: true };
  } catch (error) {
    return unshared(error);
  }
}

/** A token-sized placeholder, so the size check of sharedShape matches a real envelope's. */
const NO_TOKEN = '00000000-0000-0000-0000-000000000000';

/**
 * The value as a flight shares it: `decode(encode(value))`, or the value itself when it cannot be
 * shared. For work that ran without coordination, so its callers see the same shape as others.
 */
export function sharedShape(value: unknown, maxBytes: number, codec: ValueCodec): unknown {
  return encodeValue(NO_TOKEN, value, maxBytes, codec).value;
}

/**
 * The error envelope. An HttpException's response is part of the HTTP answer, so when it cannot be
 * encoded or is too large the error is not shared (`skip`): other instances run the work and
 * answer for themselves rather than with a different body.
 */
export function encodeError(token: string, error: unknown, maxBytes: number): string {
  try {
    const envelope = JSON.stringify({ f: FORMAT, t: token, ok: 0, e: errorFields(error) });
    return fits(envelope, maxBytes) ? envelope : encodeSkip(token);
  } catch {
    return encodeSkip(token);
  }
}

export function encodeSkip(token: string): string {
  return `{"f":${FORMAT},"t":${JSON.stringify(token)},"skip":1}`;
}

export function decodeResult(text: string, codec: ValueCodec): DecodedResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'skip', token: undefined };
  }
  if (!isPlainObject(parsed)) return { kind: 'skip', token: undefined };
  const token = typeof parsed.t === 'string' ? parsed.t : undefined;
  if (parsed.f !== FORMAT) return { kind: 'skip', token };
  if (parsed.ok === 1 && Object.hasOwn(parsed, 'v')) {
    try {
      return { kind: 'ok', token, value: codec.fromData(parsed.v) };
    } catch {
      // Written with a codec this instance lacks, or altered: this instance runs the work.
      return { kind: 'skip', token };
    }
  }
  if (parsed.ok === 0 && isPlainObject(parsed.e)) {
    const e = parsed.e;
    const error: RemoteErrorFields = {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : '',
    };
    copyHttpFields(e, error);
    if (e.httpException === true && typeof error.status === 'number') {
      error.httpException = true;
      error.response = e.response;
      if (typeof e.errorCode === 'string') error.errorCode = e.errorCode;
    }
    return { kind: 'error', token, error };
  }
  return { kind: 'skip', token };
}

/**
 * The plain-data part of an error. Only an HttpException keeps its response (the body Nest sends
 * for it); any other error keeps its name and message for logs, and the few fields Nest's
 * exception filter reads on an unknown error (`code`, `status`, `statusCode`, `expose`), copied
 * as they are so that the filter answers the same on every instance.
 */
function errorFields(error: unknown): RemoteErrorFields {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const fields: RemoteErrorFields = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(error),
  };
  copyHttpFields(e, fields);
  if (isHttpException(e)) {
    const status = call(e, 'getStatus');
    if (typeof status === 'number') {
      fields.httpException = true;
      fields.status = status;
      fields.response = call(e, 'getResponse');
      if (typeof e.errorCode === 'string') fields.errorCode = e.errorCode;
    }
  }
  return fields;
}

function copyHttpFields(from: Record<string, unknown>, to: RemoteErrorFields): void {
  if (typeof from.code === 'string' || typeof from.code === 'number') to.code = from.code;
  if (typeof from.status === 'number') to.status = from.status;
  if (typeof from.statusCode === 'number') to.statusCode = from.statusCode;
  if (typeof from.expose === 'boolean') to.expose = from.expose;
}

/**
 * Whether `error` is a Nest HttpException (this layer does not import Nest): an instance of a
 * class named `HttpException` or derived from one, with its `getStatus()` and `getResponse()`.
 */
function isHttpException(error: Record<string, unknown>): boolean {
  if (!(error instanceof Error)) return false;
  if (typeof error.getStatus !== 'function' || typeof error.getResponse !== 'function')
    return false;
  for (let proto = Object.getPrototypeOf(error) as object | null; proto !== null;) {
    if (
      Object.hasOwn(proto, 'constructor') &&
      (proto.constructor as { name?: unknown }).name === 'HttpException'
    ) {
      return true;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return false;
}

/** `target[method]()` when it is a method that answers; a throwing getter counts as absent. */
function call(target: Record<string, unknown>, method: string): unknown {
  try {
    const fn = target[method];
    return typeof fn === 'function' ? (fn as () => unknown).call(target) : undefined;
  } catch {
    return undefined;
  }
}

export function fits(envelope: string, maxBytes: number): boolean {
  // A UTF-16 length above the limit means more bytes too; below it, count the UTF-8 bytes.
  return envelope.length <= maxBytes && Buffer.byteLength(envelope) <= maxBytes;
}
