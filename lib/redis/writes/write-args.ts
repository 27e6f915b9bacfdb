import { isPlainObject } from '../../core/options.validator.js';
import { SingleflightArgumentError } from '../../core/singleflight.errors.js';
import { UndecodableValueError, UnencodableValueError } from '../../cache/type-codec.js';
import type { ValueCodec } from '../../cache/value-codec.js';
import * as messages from '../redis.messages.js';
import { EnvelopeSeal } from '../shared/envelope-seal.js';

/**
 * The format of the arguments stored in Redis: `{"f":2,"a":[...]}`, each argument as the cache's
 * ValueCodec writes it (1: the plain JSON array of 0.1). Not an array, so an older release that
 * reads it fails its push rather than run with tagged data.
 */
export const ARGS_FORMAT = 2;

/**
 * Why arguments read from Redis were refused: their HMAC does not verify (`forged`: written
 * without the secret, altered, or copied from another key), or they do not read as arguments of
 * this release (`unreadable`: another format, a codec this instance lacks, or written by hand).
 */
export type ArgsRefusal = 'forged' | 'unreadable';

/**
 * The arguments of distributed MergeWrites calls as they travel through Redis: encoded by the
 * same codec as the flights' results and the cache (a Date stays a Date, a Map a Map, an instance
 * of a class with a codec an instance of its class), and sealed with the same HMAC when the engine
 * has a `secret`. Arguments the codec cannot carry fail the call; arguments read from Redis that
 * are forged or unreadable are refused, never pushed.
 *
 * The text the engine keeps (`Carried.json`) is the encoded form, unsealed: it is sealed for the
 * Redis key it is stored under only when an EVENT sends it, and opened when a run reads it.
 */
export class WriteArgs {
  readonly #codec: ValueCodec;
  readonly #seal: EnvelopeSeal;

  constructor(codec: ValueCodec, secret: string | undefined) {
    this.#codec = codec;
    this.#seal = new EnvelopeSeal(secret);
  }

  /**
   * The arguments of a call of `key`, encoded; a SingleflightArgumentError names the part the
   * codec refuses. Trailing `undefined` arguments are left out, so an omitted optional parameter
   * stays omitted.
   */
  encode(key: string, args: readonly unknown[]): string {
    if (!Array.isArray(args)) {
      throw new SingleflightArgumentError(
        messages.WRITE_ARGS_NOT_ENCODABLE(key, 'the argument list', `${typeof args}, not an array`),
      );
    }
    let end = args.length;
    while (end > 0 && args[end - 1] === undefined) end--;
    const data: unknown[] = [];
    for (let i = 0; i < end; i++) {
      try {
        data.push(this.#codec.toData(args[i]));
      } catch (error) {
        const path = `argument ${i + 1}`;
        const what =
          error instanceof UnencodableValueError
            ? error.what
            : `not encodable (${error instanceof Error ? error.message : String(error)})`;
        const at = error instanceof UnencodableValueError ? error.path : '';
        throw new SingleflightArgumentError(
          messages.WRITE_ARGS_NOT_ENCODABLE(key, at === '' ? path : `${path} at ${at}`, what),
          { cause: error },
        );
      }
    }
    return `{"f":${ARGS_FORMAT},"a":${JSON.stringify(data)}}`;
  }

  /** The arguments of `text` from `encode`; throws an UndecodableValueError (a codec that throws). */
  decode(text: string): unknown[] {
    const args = this.#read(text);
    if (args === undefined) throw new UndecodableValueError('not arguments of this format');
    return args;
  }

  /** What to store under the Redis key `st` for the encoded arguments `text`. */
  seal(st: string, text: string): string {
    return this.#seal.seal(st, text);
  }

  /** The arguments `stored` under the Redis key `st`, with their encoded text, or why refused. */
  open(st: string, stored: string): { text: string; args: unknown[] } | ArgsRefusal {
    const text = this.#seal.open(st, stored);
    if (text === 'forged' || text === 'oversized') return 'forged';
    try {
      const args = this.#read(text);
      return args === undefined ? 'unreadable' : { text, args };
    } catch {
      return 'unreadable';
    }
  }

  /** The decoded arguments, undefined when `text` is not of this format. */
  #read(text: string): unknown[] | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isPlainObject(parsed) || parsed.f !== ARGS_FORMAT || !Array.isArray(parsed.a)) {
      return undefined;
    }
    return parsed.a.map((data) => this.#codec.fromData(data));
  }
}
