import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MergeWrites, SingleflightModule, WriteGroup } from '../../../lib/index.js';
import { type Deferred, deferred } from '../../support/deferred.js';

/** A push whose every run waits for a gate the test opens. */
@Injectable()
class Orders {
  gates: Array<Deferred<void>> = [];
  pushed: number[] = [];

  @MergeWrites((id: string) => id)
  async save(id: string, version: number): Promise<string> {
    const gate = deferred();
    this.gates.push(gate);
    await gate.promise;
    this.pushed.push(version);
    return `${id}:${version}`;
  }
}

let app: INestApplication;
let orders: Orders;
let writes: WriteGroup;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    providers: [Orders],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  orders = app.get(Orders);
  writes = app.get(WriteGroup);
});
afterAll(() => app.close());

describe("a @MergeWrites() method's runs in the app's WriteGroup", () => {
  it('are kept apart from direct do() calls of the same whole key', async () => {
    const first = orders.save('1', 1);
    const second = orders.save('1', 2); // the follow-up, waiting for the first run
    // A direct call of the method's whole key neither merges into that follow-up (which would
    // settle the method's caller with this call's value) nor waits for it.
    const direct = writes.do('Orders.save:1', async () => 'direct');
    await expect(direct).resolves.toBe('direct');
    orders.gates[0]!.resolve();
    await expect(first).resolves.toBe('1:1');
    // The follow-up starts once the first run has settled.
    while (orders.gates.length < 2) await Promise.resolve();
    orders.gates[1]!.resolve();
    await expect(second).resolves.toBe('1:2');
    expect(orders.pushed).toEqual([1, 2]);
    expect(writes.stats().size).toBe(0);
  });
});
