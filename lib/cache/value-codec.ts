import { Buffer } from 'node:buffer';
import { isArrayBuffer, isMap, isProxy, isSet, isTypedArray } from 'node:util/types';
import { Refusal, classNameOf, formOf, isIntrinsic } from '../core/plain-data.js';
import { ClassCodecs } from './class-codecs.js';
import { type TypeCodec, UndecodableValueError, UnencodableValueError } from './type-codec.js';

/**
 * The one codec of values kept outside the process: to JSON-safe data and back, keeping what JSON
 * loses. Kept: strings, booleans, null, numbers (NaN, ±Infinity and -0 too), bigints, undefined
 * (in objects, arrays and alone), plain and bare objects, arrays, Dates, Maps, Sets, Buffers,
 * typed arrays, ArrayBuffers, and instances of the classes given a TypeCodec. Refused (the value
 * is then not stored nor shared): any other class instance (Error, RegExp, a subclass of a
 * built-in, a class without a codec), functions, symbols, a Proxy, cycles, arrays with holes.
 * A plain object's own enumerable string keys are kept (getters read), as structuredClone keeps
 * them. An object met twice is kept twice: the copies no longer share one object.
 *
 * Special values are objects with the single key `$` holding `[tag, ...data]`; a plain object
 * that has a `$` key of its own is itself written as one (`["object", {...}]`), so nothing else
 * reads as a tag.
 */
export class ValueCodec {
  readonly #classes: ClassCodecs;

  /** `where`: what got the codecs, for the message when one is malformed. */
  constructor(codecs: readonly TypeCodec[] = [], where = 'codecs') {
    this.#classes = new ClassCodecs(codecs, where);
  }

  /** `value` as JSON text; throws an UnencodableValueError. */
  encode(value: unknown): string {
    return JSON.stringify(this.toData(value));
  }

  /** The value of JSON text from `encode`; throws an UndecodableValueError. */
  decode(text: string): unknown {
    return this.fromData(JSON.parse(text));
  }

  /** `value` as JSON-safe data. `open`: the objects being encoded around it (a cycle's test). */
  toData(value: unknown, open = new Set<object>()): unknown {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (Number.isFinite(value) && !Object.is(value, -0)) return value;
        return tag('number', Object.is(value, -0) ? '-0' : String(value));
      case 'bigint':
        return tag('bigint', value.toString());
      case 'undefined':
        return tag('undefined');
      case 'object':
        if (value === null) return null;
        if (isProxy(value)) throw new UnencodableValueError('a Proxy');
        if (open.has(value)) throw new UnencodableValueError('a cycle (the value contains itself)');
        open.add(value);
        try {
          return this.#object(value, open);
        } finally {
          open.delete(value);
        }
      default:
        throw new UnencodableValueError(`a ${typeof value}`);
    }
  }

  /** The value of data from `toData` (or its JSON, parsed); throws an UndecodableValueError. */
  fromData(data: unknown): unknown {
    if (typeof data !== 'object' || data === null) return data;
    if (Array.isArray(data)) return data.map((item) => this.fromData(item));
    if (Object.hasOwn(data, '$')) return this.#tagged(data as Record<string, unknown>);
    return this.#entries(data);
  }

  #object(value: object, open: Set<object>): unknown {
    const proto = Object.getPrototypeOf(value) as object | null;
    const codec = this.#classes.of(proto);
    if (codec !== undefined) {
      const data = this.#classes.encode(codec, value);
      return tag('class', codec.name, this.#within(`(${codec.name} data)`, data, open));
    }
    const form = formOf(proto);
    if (form === 'object' || form === 'null') return this.#plain(value, form, open);
    if (form === 'array') return this.#array(value as unknown[], open);
    if (form === 'date') {
      withoutOwnKeys(value, 'Date');
      const time = Date.prototype.getTime.call(value);
      return tag('Date', Number.isNaN(time) ? null : time);
    }
    const builtIn = this.#builtIn(value, proto!, open);
    if (builtIn !== undefined) return builtIn;
    throw new UnencodableValueError(
      form instanceof Refusal ? form.why : `an instance of ${classNameOf(proto)}`,
    );
  }

  /** A Map, Set, Buffer, typed array or ArrayBuffer (not a subclass of one); else undefined. */
  #builtIn(value: object, proto: object, open: Set<object>): unknown {
    if (isMap(value) && isIntrinsic(proto, 'Map')) {
      withoutOwnKeys(value, 'Map');
      return tag(
        'Map',
        [...value].map(([k, v], i) => [
          this.#within(`(Map key ${i})`, k, open),
          this.#within(`.get(${mapKey(k)})`, v, open),
        ]),
      );
    }
    if (isSet(value) && isIntrinsic(proto, 'Set')) {
      withoutOwnKeys(value, 'Set');
      return tag(
        'Set',
        [...value].map((v, i) => this.#within(`(Set element ${i})`, v, open)),
      );
    }
    if (Buffer.isBuffer(value) && proto === Buffer.prototype) {
      return tag('Buffer', value.toString('base64'));
    }
    if (isTypedArray(value)) {
      const name = Object.prototype.toString.call(value).slice(8, -1);
      if (!Object.hasOwn(TYPED_ARRAYS, name) || !isIntrinsic(proto, name)) return undefined;
      return tag(
        name,
        Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
      );
    }
    if (isArrayBuffer(value) && isIntrinsic(proto, 'ArrayBuffer')) {
      return tag('ArrayBuffer', Buffer.from(value).toString('base64'));
    }
    return undefined;
  }

  #plain(value: object, form: 'object' | 'null', open: Set<object>): unknown {
    // A bare object, so that a "__proto__" key is written as a property, as it was.
    const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value)) {
      data[key] = this.#within(step(key), (value as Record<string, unknown>)[key], open);
    }
    if (form === 'null') return tag('bare', data);
    return Object.hasOwn(data, '$') ? tag('object', data) : data;
  }

  #array(value: unknown[], open: Set<object>): unknown[] {
    const data: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined && !Object.hasOwn(value, i)) {
        throw new UnencodableValueError('an array with holes').within(`[${i}]`);
      }
      data.push(this.#within(`[${i}]`, item, open));
    }
    return data;
  }

  /** `toData(value)`, with `step` added to the path of a part that cannot be encoded. */
  #within(step: string, value: unknown, open: Set<object>): unknown {
    try {
      return this.toData(value, open);
    } catch (error) {
      throw error instanceof UnencodableValueError ? error.within(step) : error;
    }
  }

  #tagged(data: Record<string, unknown>): unknown {
    const parts = data.$;
    if (Object.keys(data).length !== 1 || !Array.isArray(parts) || typeof parts[0] !== 'string') {
      throw new UndecodableValueError('a malformed tag');
    }
    const [name, a, b] = parts as [string, unknown, unknown];
    switch (name) {
      case 'undefined':
        return undefined;
      case 'number':
        if (typeof a === 'string' && Object.hasOwn(NUMBERS, a)) return NUMBERS[a];
        break;
      case 'bigint':
        if (typeof a === 'string' && /^-?\d+$/.test(a)) return BigInt(a);
        break;
      case 'Date':
        if (a === null || typeof a === 'number') return new Date(a ?? NaN);
        break;
      case 'Map':
        if (Array.isArray(a) && a.every((e) => Array.isArray(e) && e.length === 2)) {
          return new Map((a as unknown[][]).map(([k, v]) => [this.fromData(k), this.fromData(v)]));
        }
        break;
      case 'Set':
        if (Array.isArray(a)) return new Set(a.map((item) => this.fromData(item)));
        break;
      case 'Buffer':
        if (typeof a === 'string') return Buffer.from(a, 'base64');
        break;
      case 'ArrayBuffer':
        if (typeof a === 'string') return bytes(a).buffer;
        break;
      case 'object':
      case 'bare':
        if (typeof a === 'object' && a !== null && !Array.isArray(a)) {
          const entries = this.#entries(a);
          return name === 'bare' ? Object.setPrototypeOf(entries, null) : entries;
        }
        break;
      case 'class': {
        const codec = this.#classes.named(a); // before its data: an unknown codec is the error
        return this.#classes.decode(codec, this.fromData(b));
      }
      default:
        if (Object.hasOwn(TYPED_ARRAYS, name) && typeof a === 'string') {
          const type = TYPED_ARRAYS[name]!;
          const { buffer } = bytes(a);
          if (buffer.byteLength % type.BYTES_PER_ELEMENT === 0) return new type(buffer);
        }
    }
    throw new UndecodableValueError(`a malformed ${name}`);
  }

  /** A new plain object of the decoded entries (defined, so a "__proto__" key stays a key). */
  #entries(data: object): Record<string, unknown> {
    return Object.fromEntries(
      Object.keys(data).map((key) => [key, this.fromData((data as Record<string, unknown>)[key])]),
    );
  }
}

type TypedArrayType = { new (buffer: ArrayBuffer): ArrayBufferView; BYTES_PER_ELEMENT: number };

const TYPED_ARRAYS: Record<string, TypedArrayType> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

const NUMBERS: Record<string, number> = {
  NaN,
  Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

function tag(name: string, ...data: unknown[]): { $: unknown[] } {
  return { $: [name, ...data] };
}

/** The bytes of base64 text, in an ArrayBuffer of their own (aligned for any typed array). */
function bytes(base64: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** A Map, Set or Date keeps its data inside; properties of its own would be lost. */
function withoutOwnKeys(value: object, name: string): void {
  if (Reflect.ownKeys(value).length > 0) {
    throw new UnencodableValueError(`a ${name} with properties of its own`);
  }
}

function step(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function mapKey(key: unknown): string {
  return typeof key === 'string'
    ? JSON.stringify(key)
    : typeof key === 'object'
      ? '…'
      : String(key);
}
