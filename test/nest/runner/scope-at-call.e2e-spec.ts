import { describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { LazyModuleLoader, ModuleRef } from '@nestjs/core';
import { SingleFlight, SingleflightOptionsError } from '../../../lib/index.js';
import { deferred } from '../../support/deferred.js';
import { nestApps } from '../../support/nest-app.js';

const boot = nestApps();

/**
 * A class named `Prices` whose `get(id)` answers `${source}:${id}` once `gate` opens: two calls
 * of this function make two classes of one name, each decorated with the default key.
 */
function pricesClass(source: string, gate: Promise<void>) {
  @Injectable()
  class Prices {
    runs = 0;

    @SingleFlight()
    async get(id: string): Promise<string> {
      this.runs++;
      await gate;
      return `${source}:${id}`;
    }
  }
  return Prices;
}

@Injectable()
class Maker {
  constructor(
    readonly moduleRef: ModuleRef,
    readonly lazy: LazyModuleLoader,
  ) {}
}

// The explorer refuses two classes of one name at start-up, but sees only what the app
// registered before it started: a class made later (ModuleRef.create(), a lazy-loaded module)
// took the scope `Prices.get` of the other, and its caller got the other class's result.
describe('a class the app did not register, with the scope of a registered one', () => {
  it('made by ModuleRef.create(): its call fails with a named error, and shares nothing', async () => {
    const gate = deferred<void>();
    const Registered = pricesClass('registered', gate.promise);
    const Other = pricesClass('other', gate.promise);
    const app = await boot([Registered, Maker]);
    const other = await app.get(Maker).moduleRef.create(Other);
    const calls = [app.get(Registered).get('1'), other.get('1')];
    gate.resolve();
    const [first, second] = await Promise.allSettled(calls);
    expect(first).toEqual({ status: 'fulfilled', value: 'registered:1' });
    expect(second).toMatchObject({
      status: 'rejected',
      reason: expect.any(SingleflightOptionsError),
    });
    expect((second as PromiseRejectedResult).reason.message).toMatch(/scope "Prices\.get"/);
    expect(other.runs).toBe(0);
    expect(await app.get(Registered).get('2')).toBe('registered:2');
  });

  it('provided by a lazy-loaded module: its call fails with a named error', async () => {
    const gate = deferred<void>();
    gate.resolve();
    const Registered = pricesClass('registered', gate.promise);
    const Lazy = pricesClass('lazy', gate.promise);
    @Module({ providers: [Lazy], exports: [Lazy] })
    class LazyModule {}
    const app = await boot([Registered, Maker]);
    expect(await app.get(Registered).get('1')).toBe('registered:1');
    const loaded = await app.get(Maker).lazy.load(() => LazyModule);
    const lazy = loaded.get(Lazy);
    await expect(lazy.get('1')).rejects.toThrow(SingleflightOptionsError);
    expect(lazy.runs).toBe(0);
  });

  it('one class made by ModuleRef.create() alone still runs, as before', async () => {
    const gate = deferred<void>();
    gate.resolve();
    const Alone = pricesClass('alone', gate.promise);
    const app = await boot([Maker]);
    const alone = await app.get(Maker).moduleRef.create(Alone);
    expect(await alone.get('1')).toBe('alone:1');
  });
});
