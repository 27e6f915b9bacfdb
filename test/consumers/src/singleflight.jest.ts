// Copied into the Nest 11 consumer app as src/singleflight.spec.ts and run by that app's own
// CommonJS jest setup (what `nest new` generates: ts-jest, testRegex .spec.ts, no ESM options).
// It imports only packages, since that setup maps no NodeNext `.js` specifiers to `.ts` files.
import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Group, SingleFlight, SingleflightModule } from 'nestjs-singleflight';
import { Group as CoreGroup } from 'nestjs-singleflight/core';

@Injectable()
class SlowService {
  executions = 0;

  @SingleFlight({ ttl: 60_000 })
  async load(id: string): Promise<{ id: string; execution: number }> {
    const execution = ++this.executions;
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { id, execution };
  }
}

describe('nestjs-singleflight in a CommonJS jest setup', () => {
  it('runs 50 concurrent calls once through @nestjs/testing, then serves the cached value', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
      providers: [SlowService],
    }).compile();
    const service = moduleRef.get(SlowService);
    const results = await Promise.all(Array.from({ length: 50 }, () => service.load('u1')));
    expect(service.executions).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(moduleRef.get(Group).stats()).toMatchObject({ calls: 50, flights: 1, joins: 49 });
    // The value was cached (cache-manager, in memory) before the flight ended.
    expect(await service.load('u1')).toEqual(results[0]);
    expect(service.executions).toBe(1);
    await moduleRef.close();
  });

  it('loads one copy of the package for the root and the /core entry (the CommonJS build)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
    }).compile();
    expect(CoreGroup).toBe(Group);
    expect(moduleRef.get(CoreGroup)).toBeInstanceOf(Group);
    await moduleRef.close();
  });
});
