import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { SingleflightAbortError } from '../../../lib/core/singleflight.errors.js';
import type { DistributedWriteOptions } from '../../../lib/redis/writes/distributed-write-group.interfaces.js';
import { busyWait } from '../../support/busy-wait.js';
import { deferred } from '../../support/deferred.js';
import { until } from '../../support/until.js';
import { privateFleet } from '../../support/write-fleet.js';

// A push whose lease may have been lost gets its signal aborted before it can write: after an
// event-loop stall past the lease (before any timer could run), and when renewals get no reply.

jest.setTimeout(20_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function group(options: DistributedWriteOptions) {
  const { redis, groups } = await privateFleet(1, 'l', options, cleanups);
  const writes = groups[0]!;
  return { redis, writes };
}

describe('the signal of a push whose lease may be gone', () => {
  it('a stall past the lease: aborted when the push resumes, before any timer ran', async () => {
    const { writes } = await group({ leaseMs: 300 });
    const seen: { before: boolean; after: boolean; threw: unknown }[] = [];
    await writes
      .do(
        'k',
        async (_args, { signal }) => {
          if (seen.length > 0) return; // the push again, after the lost lease: no stall
          const before = signal.aborted;
          busyWait(450); // a CPU-bound handler between reading the state and writing it
          // Synchronously after the stall: no timer (renewal, deadline) has run since.
          const after = signal.aborted;
          let threw: unknown;
          try {
            signal.throwIfAborted();
          } catch (error) {
            threw = error;
          }
          seen.push({ before, after, threw });
          if (after) throw threw;
        },
        { args: [1] },
      )
      .catch(() => undefined);
    // The call settles with the push that followed the lost lease.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ before: false, after: true });
    expect(seen[0]!.threw).toBeInstanceOf(SingleflightAbortError);
    expect(writes.stats()).toMatchObject({ leaseLost: 1, failures: 0, localFallbacks: 0, runs: 2 });
  });

  it('renewals that get no reply (Redis frozen): aborted once the lease may have run out', async () => {
    const { redis, writes } = await group({ leaseMs: 600, breakerMs: 5_000 });
    const aborted = deferred<number>();
    const started = deferred<number>();
    const called = performance.now();
    const outcome = writes.do(
      'k',
      async (_args, { signal }) => {
        started.resolve(performance.now());
        signal.addEventListener('abort', () => aborted.resolve(performance.now()));
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      },
      { args: [1] },
    );
    await started.promise;
    redis.freeze(); // before the first renewal (every leaseMs / 3)
    cleanups.push(async () => redis.thaw());
    const when = await Promise.race([
      aborted.promise,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 3_000)),
    ]);
    expect(when).toBeGreaterThan(0);
    // Not before the lease could have run out (leaseMs less a 60 ms margin from when the event
    // that took it was sent), and about when it could.
    expect(when - called).toBeGreaterThanOrEqual(600 - 60);
    expect(when - called).toBeLessThan(1_500);
    redis.thaw();
    await outcome.catch(() => undefined);
  });

  it('a push renewed in time keeps an unaborted signal for many leases', async () => {
    const { writes } = await group({ leaseMs: 300 });
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const outcome = writes.do(
      'k',
      async (_args, context) => {
        signal = context.signal;
        await gate.promise;
      },
      { args: [1] },
    );
    await until(() => signal !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(signal!.aborted).toBe(false);
    gate.resolve();
    await outcome;
    expect(writes.stats()).toMatchObject({ leaseLost: 0 });
  });
});
