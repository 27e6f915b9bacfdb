import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { config } from '../config.js';
import type { EventState } from './event.interfaces.js';

/** Where the downstream draws its latencies from; tests give a seeded generator. */
export const DOWNSTREAM_RANDOM = Symbol('DOWNSTREAM_RANDOM');
export type RandomSource = () => number;

/** How long a push takes (ms, before PUSH_LATENCY_SCALE): uniform in [min, max). */
export const PUSH_LATENCY_MS = { min: 50, max: 500 } as const;

interface KeyLog {
  received: EventState | null;
  pushes: number;
  running: number;
  overlaps: number;
}

/**
 * A simulated, slow downstream (a search index, a partner's API). It records what it received and
 * counts overlapping pushes of one key: with overlaps, a stale push may end last.
 */
@Injectable()
export class Downstream {
  readonly #keys = new Map<string, KeyLog>();

  constructor(@Inject(DOWNSTREAM_RANDOM) private readonly random: RandomSource) {}

  async push(key: string, state: EventState): Promise<void> {
    const log = this.#log(key);
    if (log.running > 0) log.overlaps++;
    log.running++;
    try {
      const { min, max } = PUSH_LATENCY_MS;
      await sleep((min + this.random() * (max - min)) * config.pushLatencyScale);
      log.received = state;
      log.pushes++;
    } finally {
      log.running--;
    }
  }

  view(key: string): Readonly<KeyLog> {
    return { ...this.#log(key) };
  }

  totals(): { pushes: number; overlaps: number } {
    let pushes = 0;
    let overlaps = 0;
    for (const log of this.#keys.values()) {
      pushes += log.pushes;
      overlaps += log.overlaps;
    }
    return { pushes, overlaps };
  }

  #log(key: string): KeyLog {
    let log = this.#keys.get(key);
    if (log === undefined) {
      log = { received: null, pushes: 0, running: 0, overlaps: 0 };
      this.#keys.set(key, log);
    }
    return log;
  }
}
