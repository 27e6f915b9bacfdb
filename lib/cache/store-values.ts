import type { Cache } from 'cache-manager';
import { isMap } from 'node:util/types';
import * as messages from './cache.messages.js';
import type { CacheErrorLogger } from './flight-cache.interfaces.js';
import { storeKey } from './store-key.js';
import { UndecodableValueError } from './type-codec.js';
import type { ValueCodec } from './value-codec.js';

type Stores = Cache['stores'];

/** A store's answer: the value and its expiry, and which of the cache's stores gave it. */
export interface Stored {
  value: unknown;
  expires?: number;
  tier: number;
}

/**
 * Marks the values a store holds in the codec's text, version 1 (the store key says the version
 * too: store-key.ts). A value under one of its keys without it, written by someone else, reads as
 * a miss: it is not ours, and its Dates would be strings.
 */
export const STORED_FORMAT = 'nestjs-singleflight:1:';

/**
 * What the stores of a cache hold for a value. An in-memory Keyv without a serializer (the
 * cache-manager default) keeps the value itself, as the process has it; any other store gets the
 * codec's text, so a store that serializes (Redis) gives back the types it was given. A value
 * that cannot be encoded goes to no store at all.
 */
export class StoreValues {
  /** Set once a store's value read as a miss was logged. */
  #unreadableLogged = false;

  constructor(
    private readonly codec: ValueCodec,
    private readonly logger: CacheErrorLogger | undefined,
  ) {}

  /**
   * The entry of `key` in the first of `stores` that has one it can read. A value it cannot read
   * (see STORED_FORMAT) is a miss, which the next write replaces; the first one is logged.
   */
  async read(stores: Stores, key: string): Promise<Stored | undefined> {
    for (let tier = 0; tier < stores.length; tier++) {
      const found = await stores[tier]!.get(storeKey(key), { raw: true });
      if (found === undefined) continue;
      try {
        return { value: this.#decode(stores[tier]!, found.value), expires: found.expires, tier };
      } catch (error) {
        if (!this.#unreadableLogged) {
          this.#unreadableLogged = true;
          this.logger?.warn(messages.STORED_UNREADABLE(key, errorText(error)));
        }
      }
    }
    return undefined;
  }

  /**
   * The value for each of `stores`, encoded once for all that need it; undefined when it cannot
   * be encoded (then no store may get it), after telling `refused` why.
   */
  encode(stores: Stores, value: unknown, refused?: (why: string) => void): unknown[] | undefined {
    let text: string | undefined;
    try {
      return stores.map((store) =>
        keepsValues(store) ? value : (text ??= STORED_FORMAT + this.codec.encode(value)),
      );
    } catch (error) {
      refused?.(errorText(error));
      return undefined;
    }
  }

  /** Writes `values[i]` (from `encode`) to `stores[i]`, to every store, as cache-manager's `set`. */
  async write(stores: Stores, key: string, values: unknown[], ttl: number | undefined) {
    await Promise.all(stores.map((store, i) => store.set(storeKey(key), values[i], ttl)));
  }

  #decode(store: Stores[number], held: unknown): unknown {
    if (keepsValues(store)) return held;
    if (typeof held !== 'string' || !held.startsWith(STORED_FORMAT)) {
      throw new UndecodableValueError('it was not written by this version of nestjs-singleflight');
    }
    return this.codec.decode(held.slice(STORED_FORMAT.length));
  }
}

/** Whether `store` keeps values as they are: a Keyv over a Map, without a serializer. */
function keepsValues(store: Stores[number]): boolean {
  return store.serialize === undefined && isMap(store.store);
}

/** What an error says (a codec's error names the part of the value it refused). */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
