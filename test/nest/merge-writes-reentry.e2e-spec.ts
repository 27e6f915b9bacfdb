import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  MergeWrites,
  SingleflightModule,
  SingleflightReentryError,
  WriteGroup,
} from '../../lib/index.js';

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

let app: INestApplication;
let service: SyncService;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot({ detectAsyncReentry: true })],
    providers: [SyncService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
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
