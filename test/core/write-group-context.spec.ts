import { describe, expect, it, jest } from '@jest/globals';
import { AsyncLocalStorage } from 'node:async_hooks';
import { WriteGroup } from '../../lib/core/index.js';
import { deferred } from '../support/deferred.js';

/** Who is calling, as a request context (nestjs-cls, a trace) would carry it. */
const user = new AsyncLocalStorage<string>();

// The follow-up run carries the newest call's fn and arguments, but it started in the handlers
// of the run before it, so its work ran in that run's caller's context: bob's push saw alice
// as its user (an audit line, a trace, a tenant read from the context would be alice's).
describe('WriteGroup: the context a follow-up run works in', () => {
  it("is the newest call's, whose fn and arguments it runs", async () => {
    const writes = new WriteGroup();
    const gate = deferred<void>();
    const seen: string[] = [];
    const push = (state: string) => async () => {
      seen.push(`${state} by ${user.getStore()}`);
      if (state === 'a') await gate.promise;
    };
    const calls = [
      user.run('alice', () => writes.do('order:1', push('a'))),
      user.run('bob', () => writes.do('order:1', push('b'))),
      user.run('carol', () => writes.do('order:1', push('c'))),
    ];
    gate.resolve();
    await Promise.all(calls);
    expect(seen).toEqual(['a by alice', 'c by carol']);
  });

  it("with merge, is the newest call's too, and stays so through retries", async () => {
    jest.useFakeTimers();
    try {
      const writes = new WriteGroup({ retry: { attempts: 2, backoffMs: 10 } });
      const gate = deferred<void>();
      const seen: string[] = [];
      let tries = 0;
      const push = async (...states: string[]) => {
        seen.push(`${states.join('+')} by ${user.getStore()}`);
        if (states[0] === 'a') await gate.promise;
        else if (tries++ === 0) throw new Error('transient');
      };
      const options = (state: string) => ({
        args: [state],
        merge: (pending: string[], next: string[]) => [...pending, ...next],
      });
      const calls = [
        user.run('alice', () => writes.do('order:1', push, options('a'))),
        user.run('bob', () => writes.do('order:1', push, options('b'))),
        user.run('carol', () => writes.do('order:1', push, options('c'))),
      ];
      gate.resolve();
      await jest.advanceTimersByTimeAsync(10);
      await Promise.all(calls);
      expect(seen).toEqual(['a by alice', 'b+c by carol', 'b+c by carol']);
    } finally {
      jest.useRealTimers();
    }
  });
});
