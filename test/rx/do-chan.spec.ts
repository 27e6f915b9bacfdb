import { describe, it, expect } from '@jest/globals';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import {
  Group,
  SingleflightAbortError,
  SingleflightOptionsError,
  type FlightResult,
} from '../../lib/core/index.js';
import { doChan$ } from '../../lib/index.js';
import { controlledWork, flushMicrotasks } from '../support/deferred.js';

describe("doChan$ (Go's DoChan)", () => {
  it('is lazy: no work until subscribed', async () => {
    const group = new Group();
    let runs = 0;
    const flight$ = doChan$(group, 'k', async () => ++runs);
    await flushMicrotasks();
    expect(runs).toBe(0);
    expect(group.stats().calls).toBe(0);
    await expect(firstValueFrom(flight$)).resolves.toEqual({
      value: 1,
      error: undefined,
      shared: false,
    });
    expect(runs).toBe(1);
  });

  it('emits one { value, error, shared } and then completes', async () => {
    const group = new Group();
    const emitted = await lastValueFrom(doChan$(group, 'k', async () => 'v').pipe(toArray()));
    expect(emitted).toEqual([{ value: 'v', error: undefined, shared: false }]);
  });

  it('emits a failure as { error } instead of erroring the Observable', async () => {
    const group = new Group();
    const boom = new Error('boom');
    const emitted = await lastValueFrom(
      doChan$(group, 'k', () => Promise.reject(boom)).pipe(toArray()),
    );
    expect(emitted).toEqual([{ value: undefined, error: boom, shared: false }]);
  });

  it('each subscription is a call: concurrent subscribers share one flight', async () => {
    const group = new Group();
    const { gate, work, signals } = controlledWork<string>();
    const flight$ = doChan$(group, 'k', work);
    const results = [firstValueFrom(flight$), firstValueFrom(flight$), firstValueFrom(flight$)];
    expect(signals).toHaveLength(1);
    gate.resolve('v');
    for (const result of await Promise.all(results)) {
      expect(result).toEqual({ value: 'v', error: undefined, shared: true });
    }
    expect(group.stats()).toMatchObject({ calls: 3, flights: 1, joins: 2, size: 0 });
  });

  it('unsubscribing one subscriber before the outcome does not disturb the others', async () => {
    const group = new Group();
    const { gate, work, signals } = controlledWork<string>();
    const seenByQuitter: FlightResult<string>[] = [];
    const quitter = doChan$(group, 'k', work).subscribe((r) => seenByQuitter.push(r));
    const stayer = firstValueFrom(doChan$(group, 'k', work));
    quitter.unsubscribe();
    await flushMicrotasks();
    expect(signals[0]!.aborted).toBe(false);
    expect(group.stats().size).toBe(1);
    gate.resolve('v');
    await expect(stayer).resolves.toEqual({ value: 'v', error: undefined, shared: true });
    expect(seenByQuitter).toEqual([]);
    expect(group.stats()).toMatchObject({ aborts: 1, size: 0 });
  });

  it('when every subscriber unsubscribes, aborts the work’s signal and frees the key', async () => {
    const group = new Group();
    const { work, signals } = controlledWork<string>();
    const subs = [doChan$(group, 'k', work).subscribe(), doChan$(group, 'k', work).subscribe()];
    subs[0]!.unsubscribe();
    expect(signals[0]!.aborted).toBe(false);
    subs[1]!.unsubscribe();
    expect(signals[0]!.aborted).toBe(true);
    expect(group.stats().size).toBe(0);
  });

  it('unsubscribing after the outcome changes nothing', async () => {
    const group = new Group();
    const flight$ = doChan$(group, 'k', async () => 'v');
    await expect(firstValueFrom(flight$)).resolves.toMatchObject({ value: 'v' });
    expect(group.stats()).toMatchObject({ aborts: 0, size: 0 });
  });

  it('honours the caller’s own signal', async () => {
    const group = new Group();
    const { gate, work } = controlledWork<string>();
    const controller = new AbortController();
    const keep = firstValueFrom(doChan$(group, 'k', work));
    const result = firstValueFrom(doChan$(group, 'k', work, { signal: controller.signal }));
    controller.abort('stop');
    const { error, value } = await result;
    expect(value).toBeUndefined();
    expect(error).toBeInstanceOf(SingleflightAbortError);
    expect((error as Error).cause).toBe('stop');
    gate.resolve('v');
    await expect(keep).resolves.toMatchObject({ value: 'v', shared: true });
  });

  it('emits bad input as { error } too', async () => {
    const group = new Group();
    const result = await firstValueFrom(doChan$(group, 1 as unknown as string, () => 'v'));
    expect((result.error as Error).name).toBe('SingleflightArgumentError');
  });

  it('emits bad call options as { error } too, like doResult', async () => {
    const group = new Group();
    let runs = 0;
    for (const options of [{ timeout: -1 }, { signal: {} }, { nope: true }]) {
      const result = await firstValueFrom(doChan$(group, 'k', () => ++runs, options as never));
      expect(result.value).toBeUndefined();
      expect((result.error as Error).name).toBe('SingleflightOptionsError');
    }
    expect(runs).toBe(0);
  });

  it.each([
    ['null', null],
    ['a number', 5],
    ['an array', [{ timeout: 5 }]],
    ['a bad signal', { signal: 'stop' }],
    ['an unknown option', { timeoutMs: 5 }],
  ])('emits options that are %s as { error }, without running', async (_, options) => {
    const group = new Group();
    let runs = 0;
    const result = await lastValueFrom(doChan$(group, 'k', () => ++runs, options as never));
    expect(result.error).toBeInstanceOf(SingleflightOptionsError);
    expect((result.error as Error).message).toContain('call options');
    expect(runs).toBe(0);
  });
});
