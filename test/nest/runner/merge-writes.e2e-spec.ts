import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import fc from 'fast-check';
import { MergeWrites, SingleflightModule, WriteGroup } from '../../../lib/index.js';
import { drain } from '../../support/until.js';

/** A downstream that notes every push, and whether two pushes of one key ever overlapped. */
@Injectable()
class PushService {
  scheduler: fc.Scheduler | undefined;
  running = 0;
  overlapped = false;
  pushed: number[] = [];
  batches: number[][] = [];

  reset(scheduler: fc.Scheduler) {
    Object.assign(this, { scheduler, running: 0, overlapped: false, pushed: [], batches: [] });
  }

  @MergeWrites((key: string) => key)
  async push(key: string, version: number): Promise<number> {
    void key;
    if (++this.running > 1) this.overlapped = true;
    await this.scheduler!.schedule(Promise.resolve(), `push v${version}`);
    this.pushed.push(version);
    this.running--;
    return version;
  }

  @MergeWrites((key: string) => key, {
    merge: (pending: [string, number[]], next: [string, number[]]): [string, number[]] => [
      next[0],
      [...pending[1], ...next[1]],
    ],
  })
  async pushAll(key: string, versions: number[]): Promise<number[]> {
    void key;
    await this.scheduler!.schedule(Promise.resolve(), 'pushAll');
    this.batches.push(versions);
    return versions;
  }
}

let app: INestApplication;
let service: PushService;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    providers: [PushService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  service = app.get(PushService);
});
afterAll(() => app.close());

describe('@MergeWrites through the decorator', () => {
  it('never overlaps, ends with the newest call, and settles each caller with a later run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 25 }), async (s, events) => {
        service.reset(s);
        let newest = 0;
        const calls: Array<{ version: number; result: Promise<number> }> = [];
        // Each event is issued at a moment the scheduler picks, interleaved with the pushes.
        for (let i = 0; i < events; i++) {
          void s.schedule(Promise.resolve(), `event ${i}`).then(() => {
            const version = ++newest;
            calls.push({ version, result: service.push('k', version) });
          });
        }
        await drain(s);
        const results = await Promise.all(calls.map((c) => c.result));
        expect(service.overlapped).toBe(false);
        expect(service.pushed.at(-1)).toBe(newest);
        // A caller's run started after it called, so it pushed this caller's version or a newer one.
        calls.forEach((call, i) => expect(results[i]).toBeGreaterThanOrEqual(call.version));
        expect(service.pushed.length).toBeLessThanOrEqual(events);
      }),
      { seed: 20261122, numRuns: 300 },
    );
    expect(app.get(WriteGroup).stats().size).toBe(0);
  });

  it('folds the arguments of waiting calls with merge', async () => {
    const s = fc.sample(fc.scheduler(), { seed: 1, numRuns: 1 })[0]!;
    service.reset(s);
    const first = service.pushAll('k', [1]);
    const waiting = [
      service.pushAll('k', [2]),
      service.pushAll('k', [3]),
      service.pushAll('k', [4]),
    ];
    await drain(s);
    await expect(first).resolves.toEqual([1]);
    for (const result of waiting) await expect(result).resolves.toEqual([2, 3, 4]);
    expect(service.batches).toEqual([[1], [2, 3, 4]]);
  });
});
