import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
// A value import: the return type's metadata must name Observable.
import { BehaviorSubject, Observable } from 'rxjs';
import { MergeWrites, SingleFlight, type SingleflightModuleOptions } from '../../../lib/index.js';
import { deferred } from '../../support/deferred.js';
import { nestApps } from '../../support/nest-app.js';
import { CapturingLogger, expectCounts } from '../../support/observe.js';

// What a call of a decorated method was (led, joined, queued, merged, rejected) is what its
// engine told it as it entered: these are the cases a guess from the timing of the work got wrong.

@Injectable()
class WriteService {
  gate = deferred<void>();
  pushed: number[] = [];
  inner: unknown;

  @MergeWrites('k')
  async push(version: number): Promise<number> {
    await this.gate.promise;
    this.pushed.push(version);
    return version;
  }

  /** Its merge refuses a negative version: that call fails alone. */
  @MergeWrites('m', {
    merge: (pending: [number], next: [number]) => {
      if (next[0] < 0) throw new Error('no negative versions');
      return next[0] > pending[0] ? next : pending;
    },
  })
  async mergedPush(version: number): Promise<number> {
    await this.gate.promise;
    return version;
  }

  /** Writes its own key from inside its run, before its first await: WriteGroup refuses that. */
  @MergeWrites('self')
  async writesItself(): Promise<string> {
    const inner = this.writesItself();
    await inner.catch((error: unknown) => (this.inner = error));
    return 'outer';
  }

  /** The same, after an await: refused with detectAsyncReentry. */
  @MergeWrites('late-self')
  async writesItselfLate(): Promise<string> {
    await Promise.resolve();
    await this.writesItselfLate().catch((error: unknown) => (this.inner = error));
    return 'outer';
  }
}

@Injectable()
class FeedService {
  upstreams = 0;
  readonly feed$ = new BehaviorSubject(1);

  /** A source that emits at once when subscribed, and goes on until the test completes it. */
  @SingleFlight('feed')
  feed(): Observable<number> {
    this.upstreams++;
    return this.feed$;
  }
}

const apps = nestApps();

async function boot(options: SingleflightModuleOptions) {
  const logger = new CapturingLogger();
  const app = await apps([WriteService, FeedService], [], { options, logger });
  return { writes: app.get(WriteService), feeds: app.get(FeedService), logger };
}

describe('@MergeWrites() calls, as WriteGroup tells them', () => {
  it.each([
    ['before its first await', 'writesItself', 'self', {}],
    [
      'after an await (detectAsyncReentry)',
      'writesItselfLate',
      'late-self',
      { detectAsyncReentry: true },
    ],
  ] as const)(
    'counts a write of its own key from inside its run, %s, as an error, not a coalesced call',
    async (_when, name, key, options) => {
      const registry = new Registry();
      const { writes, logger } = await boot({ ...options, metrics: { registry }, debug: true });
      await expect(writes[name]()).resolves.toBe('outer');
      expect(writes.inner).toMatchObject({ name: 'SingleflightReentryError' });
      const method = `WriteService.${name}`;
      await expectCounts(registry, method, {
        calls_total: 2,
        write_runs_total: 1,
        write_coalesced_total: 0,
        errors_total: 1,
        write_duration_seconds_count: 1,
      });
      expect(logger.lines).toEqual([
        `${method}: run started, key "${method}:${key}"`,
        expect.stringContaining(
          `${method}: call failed before its flight: SingleflightReentryError: `,
        ),
        expect.stringMatching(/ run settled in \d+\.\d ms, key /),
      ]);
    },
  );

  it('counts a call whose merge threw as an error, and the call it was merged into as waiting', async () => {
    const registry = new Registry();
    const { writes, logger } = await boot({ metrics: { registry }, debug: true });
    const first = writes.mergedPush(1);
    const second = writes.mergedPush(2);
    await expect(writes.mergedPush(-1)).rejects.toThrow('no negative versions');
    writes.gate.resolve();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    await expectCounts(registry, 'WriteService.mergedPush', {
      calls_total: 3,
      write_runs_total: 2,
      write_coalesced_total: 0,
      errors_total: 1,
    });
    const key = 'key "WriteService.mergedPush:m"';
    expect(logger.lines.slice(0, 3)).toEqual([
      `WriteService.mergedPush: run started, ${key}`,
      `WriteService.mergedPush: waits for the run in progress, ${key}`,
      'WriteService.mergedPush: call failed before its flight: Error: no negative versions',
    ]);
  });

  it('logs the call that becomes the waiting run apart from the calls merged into it', async () => {
    const { writes, logger } = await boot({ debug: true });
    const calls = [1, 2, 3, 4].map((version) => writes.push(version));
    const key = 'key "WriteService.push:k"';
    expect(logger.lines).toEqual([
      `WriteService.push: run started, ${key}`,
      `WriteService.push: waits for the run in progress, ${key}`,
      `WriteService.push: merged into the waiting run, ${key}`,
      `WriteService.push: merged into the waiting run, ${key}`,
    ]);
    writes.gate.resolve();
    expect(await Promise.all(calls)).toEqual([1, 4, 4, 4]);
    expect(writes.pushed).toEqual([1, 4]);
  });
});

describe('Observable @SingleFlight() subscriptions, as ObservableGroup tells them', () => {
  it('counts a subscription made while the upstream emits its first value as a join', async () => {
    const registry = new Registry();
    const { feeds } = await boot({ metrics: { registry } });
    const feed$ = feeds.feed();
    const outer: number[] = [];
    const inner: number[] = [];
    // The first value arrives while the first subscription is still being made; the second
    // subscription, of the same Observable, joins the upstream that the first one started.
    feed$.subscribe((value) => {
      outer.push(value);
      if (outer.length === 1) feed$.subscribe((next) => inner.push(next));
    });
    feeds.feed$.next(2);
    feeds.feed$.complete();
    expect(outer).toEqual([1, 2]);
    expect(inner).toEqual([1, 2]);
    expect(feeds.upstreams).toBe(1);
    await expectCounts(registry, 'FeedService.feed', {
      calls_total: 2,
      flights_total: 1,
      joins_total: 1,
      flight_duration_seconds_count: 1,
    });
  });
});
