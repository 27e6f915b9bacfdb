import { beforeEach, describe, expect, it } from '@jest/globals';
import { type DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  MergeWrites,
  SingleFlight,
  SingleflightKeyError,
  SingleflightOptionsError,
} from '../../lib/index.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { nestApps } from '../support/nest-app.js';

// A dynamic module registered once per region (`CatalogModule.forRegion('eu')`) gives each region
// an instance of its own of the same class, holding its own settings. The default key holds only
// the arguments, so before this check a US caller got the EU instance's product.

const boot = nestApps();
const REGION = Symbol('REGION');

let gate: Deferred<void>;
beforeEach(() => {
  gate = deferred();
});

type Catalog = { region: string; product(id: string): Promise<string> };

/** A Catalog class decorated with `flight`, and an app with one CatalogModule per region. */
function regions(flight: MethodDecorator) {
  @Injectable()
  class Catalog {
    constructor(@Inject(REGION) readonly region: string) {}

    @flight
    async product(id: string): Promise<string> {
      await gate.promise;
      return `${this.region}:${id}`;
    }
  }
  const EU = Symbol('EU');
  const US = Symbol('US');
  @Module({})
  class CatalogModule {
    static forRegion(region: string, token: symbol): DynamicModule {
      return {
        module: CatalogModule,
        providers: [
          { provide: REGION, useValue: region },
          Catalog,
          { provide: token, useExisting: Catalog },
        ],
        exports: [token],
      };
    }
  }
  const app = () =>
    boot([], [], {
      imports: [CatalogModule.forRegion('eu', EU), CatalogModule.forRegion('us', US)],
    });
  return { app, EU, US };
}

/** A class named Client whose get(id) answers id, with the default key. */
function echoClass() {
  @Injectable()
  class Client {
    @SingleFlight()
    async get(id: string): Promise<string> {
      return id;
    }
  }
  return Client;
}

async function askBoth(flight: MethodDecorator) {
  const { app, EU, US } = regions(flight);
  const nest = await app();
  const [eu, us] = [nest.get<Catalog>(EU), nest.get<Catalog>(US)];
  const calls = [eu.product('1'), us.product('1')];
  gate.resolve();
  return Promise.all(calls);
}

describe('one class registered by two modules (two instances)', () => {
  it('fails at start-up with the default key, naming both registrations and both fixes', async () => {
    const { app } = regions(SingleFlight());
    const boot = app();
    await expect(boot).rejects.toThrow(SingleflightOptionsError);
    await expect(boot).rejects.toThrow(
      /^Catalog\.product is on Catalog, which is provided twice \(in CatalogModule, and in CatalogModule\).*function \(this: Catalog.*shareAcrossRequests: true/,
    );
  });

  it('fails at start-up for @MergeWrites() with the default key too', async () => {
    await expect(regions(MergeWrites()).app()).rejects.toThrow(
      /^Catalog\.product .*provided twice/,
    );
  });

  it('fails at start-up when one module provides the class under two tokens', async () => {
    const Client = echoClass();
    const providers = [Client, { provide: 'OTHER', useClass: Client }] as const;
    await expect(boot([...providers])).rejects.toThrow(
      /^Client\.get is on Client, which is provided twice \(in .*, and provided as OTHER in /,
    );
  });

  it("with a key that includes the instance's settings, each region gets its own result", async () => {
    const key = SingleFlight(function (this: Catalog, id: string) {
      return `${this.region}/${id}`;
    }) as MethodDecorator;
    expect(await askBoth(key)).toEqual(['eu:1', 'us:1']);
  });

  it('with `shareAcrossRequests: true`, both share one flight, as the method said', async () => {
    expect(await askBoth(SingleFlight({ shareAcrossRequests: true }))).toEqual(['eu:1', 'eu:1']);
  });

  it('still boots a class registered once, with an alias (useExisting)', async () => {
    const Single = echoClass();
    const nest = await boot([Single, { provide: 'ALIAS', useExisting: Single }]);
    expect(await nest.get<InstanceType<typeof Single>>('ALIAS').get('x')).toBe('x');
  });
});

// Instances the explorer never sees: ModuleRef.create() makes one per call, each configured by its
// caller. Before the check, two of them shared a flight: b's caller got 'a:1'.
describe('instances the app did not register (ModuleRef.create)', () => {
  /** Two created instances of a Client decorated with `flight`, with their own `base`. */
  async function created(flight: MethodDecorator) {
    @Injectable()
    class Client {
      base = '';

      @flight
      async get(id: string): Promise<string> {
        await gate.promise;
        return `${this.base}:${id}`;
      }
    }
    @Injectable()
    class Maker {
      constructor(readonly moduleRef: ModuleRef) {}
    }
    const nest = await boot([Maker]);
    const { moduleRef } = nest.get(Maker);
    const [a, b] = [await moduleRef.create(Client), await moduleRef.create(Client)];
    a.base = 'a';
    b.base = 'b';
    return [a, b] as const;
  }

  it('fails the call on a second instance with the default key, naming the fix', async () => {
    const [a, b] = await created(SingleFlight());
    const first = a.get('1');
    const second = b.get('1');
    await expect(second).rejects.toThrow(SingleflightKeyError);
    await expect(second).rejects.toThrow(
      /^Client\.get was called on a second instance .*ModuleRef\.create\(\).*shareAcrossRequests: true/,
    );
    gate.resolve();
    expect(await first).toBe('a:1');
    // The first instance keeps its flights.
    expect(await a.get('2')).toBe('a:2');
  });

  it('fails a @MergeWrites() call on a second instance too', async () => {
    const [a, b] = await created(MergeWrites());
    gate.resolve();
    expect(await a.get('1')).toBe('a:1');
    await expect(b.get('1')).rejects.toThrow(/^Client\.get was called on a second instance/);
  });

  it("with a key that includes the instance's settings, each instance gets its own result", async () => {
    const key = SingleFlight(function (this: { base: string }, id: string) {
      return `${this.base}/${id}`;
    }) as MethodDecorator;
    const [a, b] = await created(key);
    const calls = [a.get('1'), b.get('1')];
    gate.resolve();
    expect(await Promise.all(calls)).toEqual(['a:1', 'b:1']);
  });

  it('with `shareAcrossRequests: true`, both share one flight, as the method said', async () => {
    const [a, b] = await created(SingleFlight({ shareAcrossRequests: true }));
    const calls = [a.get('1'), b.get('1')];
    gate.resolve();
    expect(await Promise.all(calls)).toEqual(['a:1', 'a:1']);
  });
});
