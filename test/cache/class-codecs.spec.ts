import { describe, expect, it } from '@jest/globals';
import { ClassCodecs } from '../../lib/cache/class-codecs.js';
import { UndecodableValueError, UnencodableValueError } from '../../lib/cache/type-codec.js';
import { SingleflightOptionsError } from '../../lib/index.js';
import { Money, money } from '../support/money.js';

// The codecs of the user's classes: found by an instance's own class, and by name on the way back.

class Euro extends Money {}

describe('ClassCodecs', () => {
  const classes = new ClassCodecs([money], 'codecs');

  it("finds a codec by its class's own prototype only: a subclass needs one of its own", () => {
    expect(classes.of(Money.prototype)?.name).toBe('Money');
    expect(classes.of(Euro.prototype)).toBeUndefined();
    expect(classes.of(Object.prototype)).toBeUndefined();
    expect(classes.of(null)).toBeUndefined();
  });

  it('finds a codec again by its name, the class name unless given', () => {
    const named = new ClassCodecs([{ ...money, name: 'Cash' }], 'codecs');
    expect(named.named('Cash').type).toBe(Money);
    expect(() => named.named('Money')).toThrow(UndecodableValueError);
    expect(() => classes.named(undefined)).toThrow(/no codec named undefined/);
  });

  it("reports a codec that throws as the value's error, naming the codec", () => {
    const fail = () => {
      throw new Error('bad data');
    };
    const broken = new ClassCodecs([{ ...money, encode: fail, decode: fail }], 'codecs');
    const codec = broken.named('Money');
    expect(() => broken.encode(codec, new Money(1n, 'EUR'))).toThrow(UnencodableValueError);
    expect(() => broken.decode(codec, 1)).toThrow(UndecodableValueError);
    expect(() => broken.decode(codec, 1)).toThrow(/decode of codec "Money" threw \(bad data\)/);
  });

  it('refuses, when made, a malformed codec and two of one class, naming where they were given', () => {
    const make = (codecs: unknown[]) => () =>
      new ClassCodecs(codecs as never, 'codecs of forRoot()');
    expect(make([{ type: Money }])).toThrow(SingleflightOptionsError);
    expect(make([{ type: Money }])).toThrow(/codecs of forRoot\(\)/);
    expect(make([money, { ...money, name: 'Cash' }])).toThrow(/same class/);
  });
});
