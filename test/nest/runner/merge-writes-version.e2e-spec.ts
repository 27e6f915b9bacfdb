import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  MergeWrites,
  SingleflightArgumentError,
  SingleflightModule,
  SingleflightOptionsError,
} from '../../../lib/index.js';
import { type Deferred, deferred, rejectionOf } from '../../support/deferred.js';
import { until } from '../../support/until.js';

interface State {
  version: number;
}

/** A downstream whose pushes wait for a gate, so a test can queue calls behind a running one. */
@Injectable()
class StateService {
  gate: Deferred<void> = deferred();
  running = 0;
  pushed: number[] = [];

  @MergeWrites((id: string) => id, { version: (_id: string, state: State) => state.version })
  async push(id: string, state: State): Promise<number> {
    void id;
    this.running++;
    await this.gate.promise;
    this.pushed.push(state.version);
    this.running--;
    return state.version;
  }
}

let app: INestApplication;
let service: StateService;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    providers: [StateService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  service = app.get(StateService);
});
afterAll(() => app.close());

describe('@MergeWrites({ version }) in one process', () => {
  it('gives the waiting run the highest version, not the call that came last', async () => {
    Object.assign(service, { gate: deferred(), pushed: [] });
    const first = service.push('doc', { version: 1 });
    await until(() => service.running === 1);
    // Two events wait for the running push, the newer one first (a queue redelivered the older).
    const waiting = [service.push('doc', { version: 3 }), service.push('doc', { version: 2 })];
    service.gate.resolve();
    expect(await Promise.all([first, ...waiting])).toEqual([1, 3, 3]);
    expect(service.pushed).toEqual([1, 3]);
  });

  it('refuses a call whose version is not a finite number, and pushes the others', async () => {
    Object.assign(service, { gate: deferred(), pushed: [] });
    service.gate.resolve();
    const bad = await rejectionOf(service.push('bad', { version: Number.NaN }));
    expect(bad).toBeInstanceOf(SingleflightArgumentError);
    expect((bad as Error).message).toContain('StateService.push:bad');
    expect(await service.push('bad', { version: 4 })).toBe(4);
    expect(service.pushed).toEqual([4]);
  });

  it('fails at start-up with both merge and version', async () => {
    @Injectable()
    class Both {
      @MergeWrites((id: string) => id, {
        version: (_id: string, v: number) => v,
        merge: (pending, next) => (next[1] > pending[1] ? next : pending),
      })
      async push(id: string, v: number): Promise<void> {
        void [id, v];
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
      providers: [Both],
    }).compile();
    const failing = moduleRef.createNestApplication({ logger: false });
    const error = await rejectionOf(failing.init());
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect((error as Error).message).toContain('both `merge` and `version`');
    await failing.close();
  });
});
