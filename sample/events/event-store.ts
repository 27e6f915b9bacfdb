import { Injectable } from '@nestjs/common';
import type { EventState } from './event.interfaces.js';

interface KeyRecord {
  latest: EventState;
  events: number;
}

/** The latest state per key, in memory. Events may arrive out of order: a lower version is stale. */
@Injectable()
export class EventStore {
  readonly #keys = new Map<string, KeyRecord>();

  /** Records an event and answers the key's latest state after it. */
  record(key: string, event: EventState): EventState {
    const record = this.#keys.get(key);
    if (record === undefined) {
      this.#keys.set(key, { latest: event, events: 1 });
      return event;
    }
    record.events++;
    if (event.version >= record.latest.version) record.latest = event;
    return record.latest;
  }

  latest(key: string): EventState | undefined {
    return this.#keys.get(key)?.latest;
  }

  events(key: string): number {
    return this.#keys.get(key)?.events ?? 0;
  }
}
