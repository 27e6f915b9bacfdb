import type { TypeCodec } from '../../lib/index.js';

/** A class with a method, whose instances keep their type through a store only with its codec. */
export class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}

  format(): string {
    return `${this.cents} ${this.currency}`;
  }
}

export const money: TypeCodec<Money, [bigint, string]> = {
  type: Money,
  encode: (m) => [m.cents, m.currency],
  decode: ([cents, currency]) => new Money(cents, currency),
};
