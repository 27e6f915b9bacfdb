/** What runs for one key of a FlightCache: loads, a background refresh, deletes. */
export interface KeyState {
  /** Bumped by each invalidate or forget: a run that began under an older one stores nothing. */
  generation: number;
  /** The runs (loads and refreshes) begun for the key, numbered in order by `begin`. */
  runs: number;
  /**
   * The number of the newest run whose value a write was started for: a run that began before it
   * starts no write after it (a late refresh never stores over a later load's value).
   */
  stored: number;
  /** Loads, refreshes and deletes under way; the entry is removed when the last one ends. */
  users: number;
  /** The store deletes of invalidate and forget, until they land; a read waits for them. */
  deleting: Promise<void> | undefined;
  /** Store writes under way, each with its take-back if the key is dropped meanwhile. */
  readonly writes: Set<Promise<void>>;
  /** Whether a refresh-ahead runs: one at a time per key. */
  refreshing: boolean;
}

/** Where a run began among the others of its key: what it compares against before it stores. */
export interface Stamp {
  /** The key's generation when the run began. */
  readonly generation: number;
  /** The run's number: later runs have greater ones. */
  readonly run: number;
}

/** A run of the key beginning now, later than every run begun before it. */
export function begin(state: KeyState): Stamp {
  return { generation: state.generation, run: ++state.runs };
}

/**
 * Whether a run's own value may still be stored: the key was not dropped since it began, and no
 * run that began after it has stored its value.
 */
export function isCurrent(state: KeyState, stamp: Stamp): boolean {
  return state.generation === stamp.generation && state.stored < stamp.run;
}

/**
 * The keys that have something under way, each with its state. A key has an entry only while
 * something runs for it, so a FlightCache holds nothing for keys it is done with, however many.
 * A run keeps its entry (it is a user), so the generation it compares against stays the same object.
 */
export class KeyStates {
  readonly #states = new Map<string, KeyState>();

  get size(): number {
    return this.#states.size;
  }

  get(key: string): KeyState | undefined {
    return this.#states.get(key);
  }

  /** The state of `key`, made if none, with one more user; pair every call with `exit`. */
  enter(key: string): KeyState {
    let state = this.#states.get(key);
    if (state === undefined) {
      state = {
        generation: 0,
        runs: 0,
        stored: 0,
        users: 0,
        deleting: undefined,
        writes: new Set(),
        refreshing: false,
      };
      this.#states.set(key, state);
    }
    state.users++;
    return state;
  }

  exit(key: string, state: KeyState): void {
    if (--state.users === 0) this.#states.delete(key);
  }
}
