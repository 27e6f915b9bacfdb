// A codec of the user's for one class, and the errors of encoding and decoding values.

/**
 * How the instances of one class are kept where a value leaves the process (a cache store that
 * serializes, the result of a flight shared through Redis). Without one, such a value is not
 * cached there nor shared: its class could not be made again on the way back.
 *
 * ```ts
 * const money: TypeCodec<Money, [string, string]> = {
 *   type: Money,
 *   encode: (m) => [m.amount, m.currency],
 *   decode: ([amount, currency]) => new Money(amount, currency),
 * };
 * SingleflightModule.forRoot({ codecs: [money] });
 * ```
 * @publicApi
 */
export interface TypeCodec<T = any, D = any> {
  /** The class. Only its own instances use this codec; a subclass needs a codec of its own. */
  type: abstract new (...args: any[]) => T;
  /**
   * Stored with every encoded instance, to find this codec again: unique among the codecs, and the
   * same on every instance and release of the app. @default the class's name
   */
  name?: string;
  /** The instance as data the library keeps: plain data, Dates, Maps, Sets, instances of codecs. */
  encode(value: T): D;
  /** The instance again, from the data `encode` gave (decoded, so its Dates are Dates). */
  decode(data: D): T;
}

/** Why a value cannot be encoded, and where in it (a path such as `.items[2].owner`). */
export class UnencodableValueError extends Error {
  #path: string[] = [];

  constructor(readonly what: string) {
    super(what);
  }

  get path(): string {
    return this.#path.join('');
  }

  /** Adds the step to the part that could not be encoded, from the inside out. */
  within(step: string): this {
    this.#path.unshift(step);
    this.message = `${this.path === '' ? '' : `at ${this.path}: `}${this.what}`;
    return this;
  }
}

/** A stored value that does not decode: written by something else, altered, or by an unknown codec. */
export class UndecodableValueError extends Error {}

/** What is wrong with a codec given in the options, or undefined. */
export function malformed(codec: unknown): string | undefined {
  if (typeof codec !== 'object' || codec === null) return 'not an object';
  const { type, name, encode, decode } = codec as Partial<TypeCodec>;
  if (typeof type !== 'function' || typeof type.prototype !== 'object')
    return '`type` is not a class';
  // A codec of Object or Array would take every plain object or array, its own data included.
  if (type === Object || type === Array) return '`type` must be a class of your own';
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    return '`name` is not a non-empty string';
  if ((name ?? type.name) === '') return 'the class has no name: give `name`';
  if (typeof encode !== 'function' || typeof decode !== 'function')
    return '`encode` or `decode` is not a function';
  return undefined;
}
