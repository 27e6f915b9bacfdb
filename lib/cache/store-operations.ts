import type { Cache } from 'cache-manager';
import * as messages from './cache.messages.js';
import type { CacheErrorLogger } from './flight-cache.interfaces.js';
import type { KeyState } from './key-states.js';
import { storeKey } from './store-key.js';
import type { StoreValues, Stored } from './store-values.js';

/**
 * A FlightCache's operations on its stores, each within the store timeout. A store that fails or
 * hangs never fails a call: the failure is counted, logged, and the call goes on without the store
 * (only `stored` throws, for a caller who asked the store itself). A write keeps read-your-writes
 * against the key's drops (invalidate, forget): see `write`.
 */
export class StoreOperations {
  /** Store failures and time-outs, each counted once, by `report`. */
  errors = 0;

  constructor(
    private readonly cache: Cache,
    private readonly values: StoreValues,
    /** How long (ms) a store operation may take; a timer, so at most 2^31 - 1. */
    private readonly timeout: number,
    private readonly logger: CacheErrorLogger | undefined,
  ) {}

  /** The entry of `key` in the first store that has it, or undefined; rejects if the stores fail. */
  stored(key: string): Promise<Stored | undefined> {
    return this.#timed(this.values.read(this.cache.stores, key));
  }

  /** As `stored`, but a failed or hung read is reported and reads as a miss. */
  async read(key: string): Promise<Stored | undefined> {
    try {
      return await this.stored(key);
    } catch (error) {
      this.report(key, error);
      return undefined;
    }
  }

  /** Deletes `key` from every store: true once they all did, false (reported) if one failed. */
  delete(key: string): Promise<boolean> {
    return this.#quietly(key, () => this.cache.del(storeKey(key)));
  }

  /**
   * Runs the store write `set` unless the key was dropped since `generation`, and takes it back
   * when the key is dropped while the store writes (the drop's delete may land first); `stands`
   * runs when the write succeeded and still holds, at once, before any drop can come between.
   * The write is in `state.writes` until it ends, so that a drop can wait for its take-back.
   */
  async write(
    key: string,
    state: KeyState,
    generation: number,
    set: () => Promise<unknown>,
    stands: () => void,
  ): Promise<void> {
    if (state.generation !== generation) return;
    // A write that answers after the timeout may land after a later delete: it is taken back.
    const late = () => void this.delete(key);
    const write = this.#quietly(key, set, late).then(async (written) => {
      if (state.generation !== generation) await this.delete(key);
      else if (written) stands();
    });
    state.writes.add(write);
    await write;
    state.writes.delete(write);
  }

  /** Counts and logs a store's failure; `key` is undefined for one the store emitted itself. */
  report(key: string | undefined, error: unknown): void {
    this.errors++;
    this.logger?.warn(messages.STORE_FAILED(key), error);
  }

  /**
   * Runs a store operation within the timeout: true if it succeeded; a failure is reported, never
   * thrown. `late` runs when an operation that timed out settles after all.
   */
  async #quietly(
    key: string,
    operation: () => Promise<unknown>,
    late?: () => void,
  ): Promise<boolean> {
    try {
      await this.#timed(operation(), late);
      return true;
    } catch (error) {
      this.report(key, error);
      return false;
    }
  }

  /** `operation`, or a rejection once the store has taken longer than the timeout. */
  #timed<T>(operation: Promise<T>, late?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(messages.STORE_TIMEOUT(this.timeout)));
        if (late !== undefined) operation.then(late, late);
      }, this.timeout);
      operation.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
