import { describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { firstValueFrom } from 'rxjs';
import { Group, SingleflightAbortError } from '../../lib/core/index.js';
import { doChan$ } from '../../lib/index.js';
import { controlledWork } from '../support/deferred.js';

/**
 * What a signal holds of the signals derived from it: Node 20 keeps a WeakRef to each
 * AbortSignal.any() made over it until it aborts, so a long-lived signal (a server's shutdown
 * signal) grows by one per derived signal. Node's own set, read where this Node has one.
 */
function derivedFrom(signal: AbortSignal): number {
  const dependants = Object.getOwnPropertySymbols(signal).find(
    (symbol) => symbol.description === 'kDependantSignals',
  );
  const set =
    dependants && (signal as unknown as Record<symbol, Set<unknown> | undefined>)[dependants];
  return set?.size ?? 0;
}

describe('doChan$ with a long-lived caller signal', () => {
  it('holds one listener on it for 1000 subscriptions, and nothing once they ended', async () => {
    const group = new Group();
    const shutdown = new AbortController().signal;
    const { gate, work } = controlledWork<string>();
    const results = Array.from({ length: 1000 }, (_, i) =>
      firstValueFrom(doChan$(group, `k${i % 10}`, work, { signal: shutdown })),
    );
    // Subscriptions that leave early let go of the signal too.
    const left = Array.from({ length: 100 }, () =>
      doChan$(group, 'k0', work, { signal: shutdown }).subscribe(),
    );
    expect(getEventListeners(shutdown, 'abort').length).toBeLessThanOrEqual(1);
    for (const subscription of left) subscription.unsubscribe();
    gate.resolve('v');
    for (const result of await Promise.all(results)) expect(result.value).toBe('v');
    expect(getEventListeners(shutdown, 'abort')).toHaveLength(0);
    expect(derivedFrom(shutdown)).toBe(0);
    expect(group.stats().size).toBe(0);
  });

  it('rejects the subscribers still waiting when it aborts, and leaves the others alone', async () => {
    const group = new Group();
    const shutdown = new AbortController();
    const { gate, work, signals } = controlledWork<string>();
    const stays = firstValueFrom(doChan$(group, 'k', work));
    const aborted = firstValueFrom(doChan$(group, 'k', work, { signal: shutdown.signal }));
    const gone = doChan$(group, 'k', work, { signal: shutdown.signal }).subscribe();
    gone.unsubscribe();
    shutdown.abort('shutting down');
    const { error } = await aborted;
    expect(error).toBeInstanceOf(SingleflightAbortError);
    expect((error as Error).cause).toBe('shutting down');
    expect(signals[0]!.aborted).toBe(false);
    gate.resolve('v');
    await expect(stays).resolves.toMatchObject({ value: 'v', shared: true });
  });
});

describe('doChan$ with options whose signal cannot be read', () => {
  it.each(['signal', 'timeout'])(
    'emits the error of a %s getter as { error }, like doResult, without running',
    async (name) => {
      const group = new Group();
      let runs = 0;
      const hostile = Object.defineProperty({}, name, {
        enumerable: true,
        get: () => {
          throw new Error('hostile getter');
        },
      });
      const result = await firstValueFrom(doChan$(group, 'k', () => ++runs, hostile));
      expect((result.error as Error).message).toBe('hostile getter');
      expect(runs).toBe(0);
      expect(group.stats().size).toBe(0);
    },
  );
});
