import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import fc from 'fast-check';
import {
  FlightCache,
  MergeWrites,
  SingleFlight,
  SingleflightOptionsError,
} from '../../../lib/index.js';
import { FLIGHT_METADATA } from '../../../lib/nest/singleflight.constants.js';
import { type Deferred, deferred } from '../../support/deferred.js';
import { nestApps } from '../../support/nest-app.js';

// A method's scope (the part of its keys before ':') must be an injective function of names the
// user controls, the same in every process. Before, 'm:x' and 'm%3Ax' shared flights, symbol
// methods shared with each other and with a method named 'Symbol(get)', and two classes of one
// name were told apart by load order ('Name.method#2'), which differs between processes.

const boot = nestApps();

/** Runs of each method, and one gate that holds them all in flight. */
let runs: string[] = [];
let gate: Deferred<void> = deferred();
async function work(name: string): Promise<string> {
  runs.push(name);
  await gate.promise;
  return name;
}

/** Calls each method with the same key at once, then lets them finish: what each one got. */
async function together(calls: (() => Promise<string>)[]): Promise<string[]> {
  runs = [];
  gate = deferred();
  const results = Promise.all(calls.map((call) => call()));
  gate.resolve();
  return results;
}

describe('scopes are injective', () => {
  it("keeps a method named 'm:x' apart from one named 'm%3Ax'", async () => {
    @Injectable()
    class Names {
      @SingleFlight('k')
      async 'm:x'(): Promise<string> {
        return work('m:x');
      }

      @SingleFlight('k')
      async 'm%3Ax'(): Promise<string> {
        return work('m%3Ax');
      }
    }
    const names = (await boot([Names])).get(Names);
    expect(await together([() => names['m:x'](), () => names['m%3Ax']()])).toEqual([
      'm:x',
      'm%3Ax',
    ]);
    expect(runs).toEqual(['m:x', 'm%3Ax']);
  });

  it('escapes %, : and . reversibly, so no two name pairs give one scope (property)', () => {
    /** The scope @SingleFlight() gives method `method` of a class named `name`. */
    function scopeOf(name: string, method: string): string {
      const target = { [name]: class {} }[name]!;
      const descriptor = { value: async () => 'value', writable: true, configurable: true };
      SingleFlight()(target.prototype, method, descriptor);
      return (Reflect.getMetadata(FLIGHT_METADATA, descriptor.value) as { scope: string }).scope;
    }
    const name = fc.string({ unit: fc.constantFrom('%', ':', '.', '2', '3', '5', 'A', 'E', 'a') });
    fc.assert(
      fc.property(name, name, name, name, (c1, m1, c2, m2) => {
        const [s1, s2] = [scopeOf(c1, m1), scopeOf(c2, m2)];
        expect(s1.includes(':')).toBe(false);
        expect(s1 === s2).toBe(c1 === c2 && m1 === m2);
      }),
      { seed: 12, numRuns: 2000 },
    );
    expect(scopeOf('A.b', 'c')).toBe('A%2Eb.c');
    expect(scopeOf('A', 'b.c')).toBe('A.b%2Ec');
    expect(scopeOf('A', 'm:x%')).toBe('A.m%3Ax%25');
  });

  it('refuses a method named by a symbol without `scope`, and keeps apart the ones with it', async () => {
    expect(() => {
      class Symbols {
        @SingleFlight('k')
        async [Symbol('get')](): Promise<string> {
          return work('symbol');
        }
      }
      return Symbols;
    }).toThrow(
      new SingleflightOptionsError(
        "Symbols.Symbol(get) is named by a symbol, which has no name that is the same in every process and unique in the app, so its keys would have no safe scope. Name one: @SingleFlight({ scope: 'orders.get' }).",
      ),
    );
    const first = Symbol('get');
    const second = Symbol('get');
    @Injectable()
    class Symbols {
      @SingleFlight('k', { scope: 'symbols.first' })
      async [first](): Promise<string> {
        return work('first');
      }

      @SingleFlight('k', { scope: 'symbols.second' })
      async [second](): Promise<string> {
        return work('second');
      }

      @SingleFlight('k')
      async 'Symbol(get)'(): Promise<string> {
        return work('Symbol(get)');
      }
    }
    const symbols = (await boot([Symbols])).get(Symbols);
    const results = await together([
      () => symbols[first](),
      () => symbols[second](),
      () => symbols['Symbol(get)'](),
    ]);
    expect(results).toEqual(['first', 'second', 'Symbol(get)']);
    expect(runs).toHaveLength(3);
  });

  it('checks the `scope` option', () => {
    expect(() => SingleFlight({ scope: 'prices:get' })).toThrow(
      /Option "scope" in @SingleFlight\(\) options must be a non-empty string without ":"/,
    );
    expect(() => MergeWrites({ scope: '' })).toThrow(SingleflightOptionsError);
  });
});

describe('two classes of one name in one app', () => {
  function catalogs(scope?: string) {
    const Prices = (() => {
      @Injectable()
      class Catalog {
        @SingleFlight({ ttl: 60_000, ...(scope === undefined ? {} : { scope }) })
        async get(id: string): Promise<string> {
          return work(`price:${id}`);
        }
      }
      return Catalog;
    })();
    const Products = (() => {
      @Injectable()
      class Catalog {
        @SingleFlight({ ttl: 60_000 })
        async get(id: string): Promise<string> {
          return work(`product:${id}`);
        }
      }
      return Catalog;
    })();
    return [
      { provide: 'prices', useClass: Prices },
      { provide: 'products', useClass: Products },
    ];
  }

  it('fail at start-up, naming both and the fix', async () => {
    await expect(boot(catalogs())).rejects.toThrow(
      new SingleflightOptionsError(
        'Two decorated methods have the scope "Catalog.get" (Catalog.get provided as prices in RootTestModule, and Catalog.get provided as products in RootTestModule): they would share flights, cached values and Redis keys, and invalidate() of one would miss the other. Classes of the same name cause this. Give one of them its own: @SingleFlight({ scope: \'prices.get\' }) or rename its class.',
      ),
    );
  });

  it('with `scope` on one, keep their flights and cached values apart', async () => {
    const nest = await boot(catalogs('prices.get'));
    const prices = nest.get<{ get(id: string): Promise<string> }>('prices');
    const products = nest.get<{ get(id: string): Promise<string> }>('products');
    expect(await together([() => prices.get('1'), () => products.get('1')])).toEqual([
      'price:1',
      'product:1',
    ]);
    // Each key names one method: invalidating the prices' value leaves the products' cached.
    await nest.get(FlightCache).invalidate('prices.get:["1"]');
    expect(await together([() => prices.get('1'), () => products.get('1')])).toEqual([
      'price:1',
      'product:1',
    ]);
    expect(runs).toEqual(['price:1']);
  });

  it('fail at start-up when a `scope` takes another method’s', async () => {
    @Injectable()
    class Orders {
      @SingleFlight()
      async get(id: string): Promise<string> {
        return work(id);
      }
    }
    @Injectable()
    class Invoices {
      @SingleFlight({ scope: 'Orders.get' })
      async get(id: string): Promise<string> {
        return work(id);
      }
    }
    await expect(boot([Orders, Invoices])).rejects.toThrow(/have the scope "Orders\.get"/);
  });
});

describe('one decorated method inherited by two classes', () => {
  /** A generic repository: what `find` returns depends on `this.table`. */
  abstract class Repository {
    abstract readonly table: string;

    @SingleFlight()
    async find(id: string): Promise<string> {
      return work(`${this.table}:${id}`);
    }
  }

  it('fails at start-up: the classes would share results computed on different `this`', async () => {
    @Injectable()
    class Users extends Repository {
      readonly table = 'users';
    }
    @Injectable()
    class Orders extends Repository {
      readonly table = 'orders';
    }
    await expect(boot([Users, Orders])).rejects.toThrow(
      /^The decorated method of scope "Repository\.find" is called on two classes \(Users\.find in RootTestModule, and Orders\.find in RootTestModule\).*Decorate an override in each class instead/,
    );
    // One of them alone is fine.
    await expect(boot([Users])).resolves.toBeDefined();
  });

  it('with an override decorated in each class, keeps their flights apart', async () => {
    class Base {
      readonly table: string = '';
      async find(id: string): Promise<string> {
        return work(`${this.table}:${id}`);
      }
    }
    @Injectable()
    class Users extends Base {
      override readonly table = 'users';
      @SingleFlight()
      override async find(id: string): Promise<string> {
        return super.find(id);
      }
    }
    @Injectable()
    class Orders extends Base {
      override readonly table = 'orders';
      @SingleFlight()
      override async find(id: string): Promise<string> {
        return super.find(id);
      }
    }
    const nest = await boot([Users, Orders]);
    const [users, orders] = [nest.get(Users), nest.get(Orders)];
    expect(await together([() => users.find('1'), () => orders.find('1')])).toEqual([
      'users:1',
      'orders:1',
    ]);
  });
});

describe('scopes are the same in every process', () => {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  /** A Node process that loads the two `Catalog` classes in `order` and boots apps with them. */
  async function pod(order: string): Promise<unknown> {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        './test/support/metadata-loader/register.mjs',
        'test/nest/decorators/pods/scope.pod.ts',
        order,
      ],
      { cwd: root },
    );
    return JSON.parse(stdout) as unknown;
  }

  it('two processes that load same-named classes in opposite orders agree, or both fail', async () => {
    const [a, b] = await Promise.all([pod('prices,products'), pod('products,prices')]);
    expect(a).toEqual(b);
    expect(a).toEqual({
      // An app with both fails to start, in every process.
      both: {
        error: expect.stringMatching(/^SingleflightOptionsError: Two decorated .*"Catalog\.get"/),
      },
      // An app with one of them: the same scope whatever else the process loaded first.
      products: { scopes: { products: 'Catalog.get' } },
    });
  }, 60_000);
});
