import { Injectable, Logger } from '@nestjs/common';
import { MergeWrites } from 'nestjs-singleflight';
import { Downstream } from './downstream.js';
import type { EventState } from './event.interfaces.js';
import { EventStore } from './event-store.js';

@Injectable()
export class PushService {
  readonly #logger = new Logger(PushService.name);
  /** Triggers per key whose push has not settled yet. */
  readonly #pending = new Map<string, number>();

  constructor(
    private readonly store: EventStore,
    private readonly downstream: Downstream,
  ) {}

  /**
   * Pushes the key's latest state. A burst of calls causes at most one push in flight plus one
   * follow-up, and the last push carries the newest state: the state is read when the push runs,
   * not when it was asked for.
   */
  // The event store lives in this process, so with REDIS_URL the pushes stay here too: an
  // instance that never saw the key's events could not push its state.
  @MergeWrites((key: string) => key, { distributed: false })
  async push(key: string): Promise<EventState> {
    const state = this.store.latest(key);
    if (state === undefined) throw new Error(`no event recorded for "${key}"`);
    await this.downstream.push(key, state);
    return state;
  }

  /** Starts a push and tracks it until it settles; failures are logged, never unhandled. */
  trigger(key: string): Promise<EventState | undefined> {
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
    return this.push(key)
      .catch((error: unknown) => {
        this.#logger.error(`push of "${key}" failed: ${String(error)}`);
        return undefined;
      })
      .finally(() => {
        const left = this.#pending.get(key)! - 1;
        if (left === 0) this.#pending.delete(key);
        else this.#pending.set(key, left);
      });
  }

  /** Whether a push of `key` is running or waiting to run. */
  isPending(key: string): boolean {
    return this.#pending.has(key);
  }
}
