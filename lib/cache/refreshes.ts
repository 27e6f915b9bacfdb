import { MAX_TIMER_MS } from '../core/options.validator.js';
import * as messages from './cache.messages.js';
import type { CacheErrorLogger } from './flight-cache.interfaces.js';
import { type KeyState, type KeyStates, type Stamp, begin } from './key-states.js';

/**
 * The background refreshes of refresh-ahead, at most one at a time per key. A refresh is a user
 * of its key's state while it runs, so the generation it compares against stays the same object.
 *
 * Each is bounded: a refresh whose work has not settled within its deadline is given up. It then
 * leaves the key's state, so that the key may be refreshed again and a key with hung work holds
 * nothing, and its value, when it comes, is not stored: no later drop of the key could reach it.
 */
export class Refreshes {
  constructor(
    private readonly states: KeyStates,
    private readonly logger: CacheErrorLogger | undefined,
  ) {}

  /**
   * Runs `work` in the background, unless a refresh of `key` runs already, then `keep` with its
   * value, if the work settled within `deadline` ms (a failure is logged). `keep` is not bounded
   * here: it writes to the stores, each write within the store timeout.
   */
  start<T>(
    key: string,
    state: KeyState,
    deadline: number,
    work: () => T | PromiseLike<T>,
    keep: (stamp: Stamp, value: T) => Promise<void>,
  ): void {
    if (state.refreshing) return;
    const stamp = begin(state);
    state.refreshing = true;
    this.states.enter(key);
    const end = () => {
      state.refreshing = false;
      this.states.exit(key, state);
    };
    let givenUp = false;
    const ms = Math.min(deadline, MAX_TIMER_MS);
    const timer = setTimeout(() => {
      givenUp = true;
      this.logger?.warn(messages.REFRESH_GIVEN_UP(key, ms));
      end();
    }, ms);
    // A refresh must not keep the process alive.
    timer.unref();
    /** Whether the work settled in time; from then on the deadline no longer applies. */
    const inTime = () => !givenUp && (clearTimeout(timer), true);
    void (async () => {
      try {
        const value = await work();
        if (inTime()) await keep(stamp, value);
      } catch (error) {
        if (inTime()) this.logger?.warn(messages.REFRESH_FAILED(key), error);
      } finally {
        if (!givenUp) end();
      }
    })();
  }
}
