import { MAX_TIMER_MS } from '../core/options.validator.js';

interface Entry {
  /** One settled promise per stored value: every hit returns it, nothing is allocated per hit. */
  readonly promise: Promise<unknown>;
  readonly freshUntil: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * What this process stored in a cache no one else writes, for hits that need no trip through the
 * store. Keys are split at their first ':' (`Class.method:<key>`), so a decorated method looks up
 * its own part without building the whole key: concatenating it would cost more than the lookup.
 * A hit checks the clock (tests that move `Date.now` expect that), read once per synchronous run
 * of code, since reading it costs more than the rest of a hit; a timer removes an entry nobody
 * reads again, so one-off keys do not pile up.
 */
export class LocalMirror {
  /**
   * Keys with a ':': by the part before it, then by the rest. A part's map stays while it holds
   * an entry, or for good when `scope` made it (its caller keeps the map); so keys with ever new
   * parts (`<user id>:settings`) leave nothing once their entries are gone.
   */
  readonly #scoped = new Map<string, Map<string, Entry>>();
  /** The parts `scope` was called for: their maps are never removed. */
  readonly #kept = new Set<string>();
  /** Keys without one, kept apart so that `a` and `a:` never meet. */
  readonly #plain = new Map<string, Entry>();

  /**
   * Looks up the keys `scope:<rest>` by their rest, for a caller that keeps the function: a
   * decorated method finds its key part in one step. `onHit` runs for every answer.
   */
  scope(scope: string, onHit: () => void): (rest: string) => Promise<unknown> | undefined {
    // Made now, so later values of the scope land in this same map.
    const entries = this.#scoped.get(scope) ?? new Map<string, Entry>();
    this.#scoped.set(scope, entries);
    this.#kept.add(scope);
    return (rest) => {
      const hit = fresh(entries, rest);
      if (hit !== undefined) onHit();
      return hit;
    };
  }

  /** The stored value of `key` as a resolved promise, while it is fresh; otherwise undefined. */
  get(key: string): Promise<unknown> | undefined {
    const [map, rest] = this.#locate(key, false);
    if (map === undefined) return undefined;
    const hit = fresh(map, rest);
    if (hit === undefined) this.#prune(key);
    return hit;
  }

  /** How many parts before a ':' it holds a map for (what stays once every entry is gone). */
  get scopes(): number {
    return this.#scoped.size;
  }

  /** Keeps `value` for `freshFor` ms (Infinity: until deleted). */
  set(key: string, value: unknown, freshFor: number): void {
    if (!(freshFor > 0)) return this.delete(key);
    const [map, rest] = this.#locate(key, true);
    const entry: Entry = {
      promise: Promise.resolve(value),
      freshUntil: Date.now() + freshFor,
      timer: undefined,
    };
    clearTimeout(map!.get(rest)?.timer);
    map!.set(rest, entry);
    if (freshFor !== Infinity) this.#expire(key, map!, rest, entry, freshFor);
  }

  delete(key: string): void {
    const [map, rest] = this.#locate(key, false);
    const entry = map?.get(rest);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    map!.delete(rest);
    this.#prune(key);
  }

  #expire(key: string, map: Map<string, Entry>, rest: string, entry: Entry, ms: number): void {
    const delay = Math.min(ms, MAX_TIMER_MS);
    entry.timer = setTimeout(() => {
      if (map.get(rest) !== entry) return;
      if (delay < ms) return this.#expire(key, map, rest, entry, ms - delay);
      map.delete(rest);
      this.#prune(key);
    }, delay);
    // A cached value must not keep the process alive.
    entry.timer.unref();
  }

  /** Removes the map of `key`'s part once it is empty, unless `scope` made it. */
  #prune(key: string): void {
    const colon = key.indexOf(':');
    if (colon < 0) return;
    const scope = key.slice(0, colon);
    if (this.#scoped.get(scope)?.size === 0 && !this.#kept.has(scope)) this.#scoped.delete(scope);
  }

  #locate(key: string, create: boolean): [Map<string, Entry> | undefined, string] {
    const colon = key.indexOf(':');
    if (colon < 0) return [this.#plain, key];
    const scope = key.slice(0, colon);
    let map = this.#scoped.get(scope);
    if (map === undefined && create) this.#scoped.set(scope, (map = new Map()));
    return [map, key.slice(colon + 1)];
  }
}

const RESOLVED = Promise.resolve();
let now = 0;
let clockRead = false;
const forgetClock = () => {
  clockRead = false;
};

/** Date.now(), read at most once until the current job ends: a burst of hits reads it once. */
function coarseNow(): number {
  if (!clockRead) {
    now = Date.now();
    clockRead = true;
    // A promise, not queueMicrotask: fake timers replace that one and would freeze the clock.
    void RESOLVED.then(forgetClock);
  }
  return now;
}

function fresh(map: Map<string, Entry>, rest: string): Promise<unknown> | undefined {
  const entry = map.get(rest);
  if (entry === undefined) return undefined;
  if (entry.freshUntil > coarseNow()) return entry.promise;
  clearTimeout(entry.timer);
  map.delete(rest);
  return undefined;
}
