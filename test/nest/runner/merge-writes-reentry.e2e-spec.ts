import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Group,
  MergeWrites,
  SingleFlight,
  SingleflightModule,
  SingleflightReentryError,
  WriteGroup,
} from '../../../lib/index.js';
import { deferred, flushMicrotasks, track } from '../../support/deferred.js';

@Injectable()
class SyncService {
  /** Pushes `id`; with `then`, pushes that key too from inside this run, after an await. */
  @MergeWrites((id: string) => `user:${id}`)
  async push(id: string, then?: string): Promise<string> {
    await Promise.resolve();
    if (then === undefined) return id;
    return `${id}>${await this.push(then)}`;
  }
}

/** A cached read whose work may write, and a write whose work may read, of one account. */
@Injectable()
class AccountService {
  readonly gate = deferred();

  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async balance(id: string, sync: boolean): Promise<string> {
    await this.gate.promise;
    return sync ? `balance after ${await this.sync(id, false)}` : 'balance';
  }

  @MergeWrites((id: string) => id)
  async sync(id: string, check: boolean): Promise<string> {
    await this.gate.promise;
    return check ? `sync after ${await this.balance(id, false)}` : 'sync';
  }
}

let app: INestApplication;
let service: SyncService;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot({ detectAsyncReentry: true })],
    providers: [SyncService, AccountService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  moduleRef.get(AccountService); // made for the second describe
  await app.init();
  service = app.get(SyncService);
});
afterAll(() => app.close());

describe('@MergeWrites with forRoot({ detectAsyncReentry: true })', () => {
  it('a method that writes its own key after an await rejects with SingleflightReentryError instead of deadlocking', async () => {
    const error = await service.push('a', 'a').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SingleflightReentryError);
    expect((error as SingleflightReentryError).key).toContain('user:a');
    // The key is free again, and nesting another key is no re-entry.
    await expect(service.push('a')).resolves.toBe('a');
    await expect(service.push('a', 'b')).resolves.toBe('a>b');
    expect(app.get(WriteGroup).stats().size).toBe(0);
  });
});

describe('a cached @SingleFlight and a @MergeWrites calling each other, detectAsyncReentry', () => {
  it('caller 1 reads then writes, caller 2 writes then reads: the call closing the cycle fails, nothing hangs', async () => {
    const accounts = app.get(AccountService);
    const read = track(accounts.balance('a1', true)); // its work will wait for sync
    const write = track(accounts.sync('a1', true)); // its work will wait for balance
    accounts.gate.resolve();
    await flushMicrotasks();
    await new Promise((resolve) => setImmediate(resolve));
    // Without one wait-for graph for both engines, neither call ever settles.
    expect([read.state.status, write.state.status]).not.toContain('pending');
    const errors = [read.state, write.state].flatMap((s) =>
      s.status === 'rejected' ? [s.reason] : [],
    );
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error).toBeInstanceOf(SingleflightReentryError);
      expect((error as Error).message).toMatch(
        /"AccountService\.(balance|sync):a1" -> "AccountService\.(sync|balance):a1" -> /,
      );
    }
    expect(app.get(Group).stats().size).toBe(0);
    expect(app.get(WriteGroup).stats().size).toBe(0);
    await expect(accounts.sync('a1', true)).resolves.toMatch(/^sync after balance/);
  });
});
