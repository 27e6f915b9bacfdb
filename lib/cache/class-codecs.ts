import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import * as messages from './cache.messages.js';
import {
  type TypeCodec,
  UndecodableValueError,
  UnencodableValueError,
  malformed,
} from './type-codec.js';

/**
 * The codecs of the user's classes, checked once when made: each class has at most one codec and
 * each codec a name of its own, so an instance finds its codec by its prototype (its own class
 * only, never a subclass's) and a stored value finds it again by name. A codec that throws is
 * reported as the value's error, naming the codec.
 */
export class ClassCodecs {
  readonly #byPrototype = new Map<object, Required<TypeCodec>>();
  readonly #byName = new Map<string, Required<TypeCodec>>();

  /** `where`: what got the codecs, for the message when one is malformed or two collide. */
  constructor(codecs: readonly TypeCodec[], where: string) {
    for (const codec of codecs) {
      const problem = malformed(codec);
      if (problem !== undefined) {
        throw new SingleflightOptionsError(messages.BAD_CODEC(where, codec, problem));
      }
      const named = { ...codec, name: codec.name ?? codec.type.name };
      const proto = codec.type.prototype as object;
      if (this.#byName.has(named.name) || this.#byPrototype.has(proto)) {
        throw new SingleflightOptionsError(messages.DUPLICATE_CODEC(where, named.name));
      }
      this.#byName.set(named.name, named);
      this.#byPrototype.set(proto, named);
    }
  }

  /** The codec of the instances of `proto`'s class, or undefined. */
  of(proto: object | null): Required<TypeCodec> | undefined {
    return proto === null ? undefined : this.#byPrototype.get(proto);
  }

  /** `codec`'s data of `value`; throws an UnencodableValueError if the codec throws. */
  encode(codec: Required<TypeCodec>, value: object): unknown {
    try {
      return codec.encode(value);
    } catch (error) {
      throw new UnencodableValueError(messages.CODEC_THREW(codec.name, 'encode', error));
    }
  }

  /** The codec named `name`; throws an UndecodableValueError if there is none. */
  named(name: unknown): Required<TypeCodec> {
    const codec = typeof name === 'string' ? this.#byName.get(name) : undefined;
    if (codec === undefined) throw new UndecodableValueError(`no codec named ${String(name)}`);
    return codec;
  }

  /** `codec`'s instance from its (decoded) data; throws an UndecodableValueError if it throws. */
  decode(codec: Required<TypeCodec>, data: unknown): unknown {
    try {
      return codec.decode(data);
    } catch (error) {
      throw new UndecodableValueError(messages.CODEC_THREW(codec.name, 'decode', error));
    }
  }
}
