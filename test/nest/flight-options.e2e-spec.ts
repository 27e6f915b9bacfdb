import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Group,
  SingleFlight,
  SingleflightModule,
  SingleflightTimeoutError,
} from '../../lib/index.js';
import { deferred } from '../support/deferred.js';

@Injectable()
class Backend {
  runs = 0;
  gate = deferred<void>();

  @SingleFlight('old', { forgetAfter: 20 })
  async slow(): Promise<number> {
    const run = ++this.runs;
    await this.gate.promise;
    return run;
  }

  @SingleFlight('flaky', { shareErrors: false })
  async flaky(): Promise<number> {
    const run = ++this.runs;
    await this.gate.promise;
    if (run === 1) throw new Error('first run fails');
    return run;
  }

  @SingleFlight('patient', { timeout: 10 })
  async patient(): Promise<number> {
    await this.gate.promise;
    return ++this.runs;
  }
}

let app: INestApplication;
let backend: Backend;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    providers: [Backend],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  backend = app.get(Backend);
});
afterAll(() => app.close());

const reset = () => Object.assign(backend, { runs: 0, gate: deferred<void>() });

describe("a decorated method's flights in the app's Group", () => {
  it('count in stats(), and forget("Class.method:<key>") lets the next call start a new flight', async () => {
    reset();
    const group = app.get(Group);
    const before = group.stats();
    const first = backend.patient();
    expect(group.stats()).toMatchObject({ size: before.size + 1, flights: before.flights + 1 });
    group.forget('Backend.patient:other');
    expect(group.stats().forgets).toBe(before.forgets);
    group.forget('Backend.patient:patient');
    expect(group.stats()).toMatchObject({ size: before.size, forgets: before.forgets + 1 });
    const second = backend.patient();
    backend.gate.resolve();
    await Promise.allSettled([first, second]);
    expect(backend.runs).toBe(2);
    expect(group.stats().size).toBe(before.size);
  });

  it('are kept apart from direct Group.do calls of the same key, either way round', async () => {
    reset();
    const group = app.get(Group);
    const direct = () =>
      group.do('Backend.slow:old', () => backend.gate.promise.then(() => 'direct'));
    const calls = [direct(), backend.slow(), direct()];
    backend.gate.resolve();
    expect(await Promise.all(calls)).toEqual(['direct', 1, 'direct']);
    expect(backend.runs).toBe(1);
  });

  it('forget() of a key both hold forgets both flights', async () => {
    reset();
    const group = app.get(Group);
    const before = group.stats();
    const calls = [group.do('Backend.slow:old', () => backend.gate.promise), backend.slow()];
    group.forget('Backend.slow:old');
    expect(group.stats()).toMatchObject({ size: before.size, forgets: before.forgets + 2 });
    backend.gate.resolve();
    await Promise.all(calls);
  });
});

describe('per-method flight options', () => {
  it('forgetAfter: a flight older than that takes no more joiners', async () => {
    reset();
    const first = backend.slow();
    await new Promise((resolve) => setTimeout(resolve, 40));
    const second = backend.slow();
    backend.gate.resolve();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
  });

  it('shareErrors false: joiners of a failed flight run it once more together', async () => {
    reset();
    const calls = [backend.flaky(), backend.flaky(), backend.flaky()];
    backend.gate.resolve();
    const settled = await Promise.allSettled(calls);
    expect(settled[0]).toMatchObject({ status: 'rejected', reason: new Error('first run fails') });
    expect(settled.slice(1)).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'fulfilled', value: 2 },
    ]);
    expect(backend.runs).toBe(2);
  });

  it('timeout: the caller gives up, the flight finishes', async () => {
    reset();
    const timedOut = backend.patient();
    await expect(timedOut).rejects.toBeInstanceOf(SingleflightTimeoutError);
    // The error names the key the decorator built, as forget() and the cache know it.
    await expect(timedOut).rejects.toMatchObject({ key: 'Backend.patient:patient' });
    backend.gate.resolve();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(backend.runs).toBe(1);
  });
});
