import { describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FlightCache, SingleFlight, SingleflightModule } from '../../lib/index.js';

@Injectable()
class Prices {
  runs = 0;

  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async get(id: string): Promise<string> {
    return `${id}:${++this.runs}`;
  }
}

@Injectable()
class Admin {
  constructor(readonly cache: FlightCache) {}
}

async function boot(feature: ReturnType<typeof SingleflightModule.forRoot>) {
  @Module({ imports: [feature], providers: [Prices], exports: [Prices] })
  class PricesModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot(), PricesModule],
    providers: [Admin],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

// Imported by the root module and by a feature module, the module made two sets of engines:
// Prices cached through one, and Admin's FlightCache was the other's, so invalidate() resolved
// and the next call still got the value it was meant to drop ('eu:1').
describe('SingleflightModule imported twice', () => {
  it('fails at start-up, naming both importers and the fix, whatever the options', async () => {
    for (const feature of [
      SingleflightModule.forRoot(),
      SingleflightModule.forRoot({ timeout: 5_000 }),
      SingleflightModule.forRoot({ isGlobal: false }),
      SingleflightModule.forRootAsync({ useFactory: () => ({}) }),
    ]) {
      await expect(boot(feature)).rejects.toThrow(
        /^SingleflightModule is imported 2 times \(by RootTestModule, PricesModule\).*Import it once, in the root module/,
      );
    }
  });
});

describe('SingleflightModule imported once, in a module that several others import', () => {
  it('boots: one module, so a FlightCache drops what any method cached', async () => {
    @Module({ imports: [SingleflightModule.forRoot()], exports: [SingleflightModule] })
    class CoreModule {}
    @Module({ imports: [CoreModule], providers: [Prices], exports: [Prices] })
    class PricesModule {}
    @Module({ imports: [CoreModule], providers: [Admin], exports: [Admin] })
    class AdminModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [CoreModule, PricesModule, AdminModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const prices = app.get(Prices);
      expect(await prices.get('eu')).toBe('eu:1');
      await app.get(Admin).cache.invalidate('Prices.get:eu');
      expect(await prices.get('eu')).toBe('eu:2');
    } finally {
      await app.close();
    }
  });
});
