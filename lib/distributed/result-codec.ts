import { isPlainObject } from '../core/options.validator.js';
import type { RemoteErrorFields } from './remote-flight.error.js';

/**
 * The result envelope of a distributed flight, as stored in `…:res` (design/distributed.md §2.2):
 *
 * - `{"f":1,"t":token,"ok":1,"v":value}`: the work's value (`v` absent: undefined);
 * - `{"f":1,"t":token,"ok":0,"e":{name,message,code,status,response}}`: the work's error;
 * - `{"f":1,"t":token,"skip":1}`: the value cannot be shared; waiting instances run the work
 *   themselves.
 *
 * The codec is JSON, the same as Keyv 5 (cache-manager's Redis store), so a value looks the same
 * whether it came from the leader, from another instance's flight or, later, from the cache: a
 * `Date` becomes its ISO string, a `Map`/`Set` `{}`, `undefined` fields are dropped, class
 * prototypes are lost.
 *
 * Decision (option (a) of §2.6): the leader ALSO returns `decode(encode(value))`, so callers on
 * every instance see the same shape. A value JSON cannot encode (a BigInt, a cycle, a throwing
 * `toJSON`) or one whose envelope is larger than `maxResultBytes` is not shared: the envelope says
 * `skip` and the leader returns its original value. `f` is the format version; an envelope of
 * another version or one that does not parse reads as `skip`, so a rolling deploy that changes the
 * format costs extra calls, never wrong results.
 */
export const FORMAT = 1;

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
}

export function encodeValue(token: string, value: unknown, maxBytes: number): EncodedValue {
  let json: string | undefined;
  try {
    // undefined for undefined, a function or a symbol: followers get undefined, as JSON gives.
    json = JSON.stringify(value);
  } catch {
    return { envelope: encodeSkip(token), value, shared: false };
  }
  const envelope =
    json === undefined
      ? `{"f":${FORMAT},"t":${JSON.stringify(token)},"ok":1}`
      : `{"f":${FORMAT},"t":${JSON.stringify(token)},"ok":1,"v":${json}}`;
  if (!fits(envelope, maxBytes)) return { envelope: encodeSkip(token), value, shared: false };
  return { envelope, value: json === undefined ? undefined : JSON.parse(json), shared: true };
}

/** A token-sized placeholder, so the size check of sharedShape matches a real envelope's. */
const NO_TOKEN = '00000000-0000-0000-0000-000000000000';

/**
 * The value as a flight shares it: `decode(encode(value))`, or the value itself when it cannot be
 * shared. For work that ran without coordination, so its callers see the same shape as others.
 */
export function sharedShape(value: unknown, maxBytes: number): unknown {
  return encodeValue(NO_TOKEN, value, maxBytes).value;
}

/** The error envelope; without `response` when that cannot be encoded or is too large. */
export function encodeError(token: string, error: unknown, maxBytes: number): string {
  const fields = errorFields(error);
  const encode = (e: RemoteErrorFields): string | undefined => {
    try {
      const envelope = JSON.stringify({ f: FORMAT, t: token, ok: 0, e });
      return fits(envelope, maxBytes) ? envelope : undefined;
    } catch {
      return undefined;
    }
  };
  if (fields.response === undefined) return encode(fields) ?? encodeSkip(token);
  const { response: _dropped, ...withoutResponse } = fields;
  return encode(fields) ?? encode(withoutResponse) ?? encodeSkip(token);
}

export function encodeSkip(token: string): string {
  return `{"f":${FORMAT},"t":${JSON.stringify(token)},"skip":1}`;
}

export function decodeResult(text: string): DecodedResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'skip', token: undefined };
  }
  if (!isPlainObject(parsed)) return { kind: 'skip', token: undefined };
  const token = typeof parsed.t === 'string' ? parsed.t : undefined;
  if (parsed.f !== FORMAT) return { kind: 'skip', token };
  if (parsed.ok === 1) return { kind: 'ok', token, value: parsed.v };
  if (parsed.ok === 0 && isPlainObject(parsed.e)) {
    const e = parsed.e;
    const error: RemoteErrorFields = {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : '',
    };
    if (typeof e.code === 'string' || typeof e.code === 'number') error.code = e.code;
    if (typeof e.status === 'number') error.status = e.status;
    if (e.response !== undefined) error.response = e.response;
    return { kind: 'error', token, error };
  }
  return { kind: 'skip', token };
}

/** The plain-data part of an error; HttpException's status and response are found by duck typing. */
function errorFields(error: unknown): RemoteErrorFields {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const fields: RemoteErrorFields = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(error),
  };
  if (typeof e.code === 'string' || typeof e.code === 'number') fields.code = e.code;
  const status = call(e, 'getStatus') ?? e.status ?? e.statusCode;
  if (typeof status === 'number') fields.status = status;
  const response = call(e, 'getResponse');
  if (response !== undefined) fields.response = response;
  return fields;
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

function fits(envelope: string, maxBytes: number): boolean {
  // A UTF-16 length above the limit means more bytes too; below it, count the UTF-8 bytes.
  return envelope.length <= maxBytes && Buffer.byteLength(envelope) <= maxBytes;
}
