import type { Flight } from './flight.js';

/**
 * Flights whose keys share a prefix: the group's own keys (no prefix), or a decorated method's,
 * `Class.method:`. A method's flights live in a Map of their own, keyed by the part after the
 * prefix, so its calls never build the whole key unless an error or `forget` needs it.
 */
export class Keyspace {
  /**
   * A key's flight from its start until it lets go of the key: it settles, is forgotten, or expires
   * and a new flight takes the key. Invariant: `flights.get(key) === flight` exactly while
   * `flight.holdsKey`; only `take` and `release` change either.
   */
  readonly #flights = new Map<string, Flight>();
  constructor(readonly prefix: string) {}

  get(key: string): Flight | undefined {
    return this.#flights.get(key);
  }

  /** Gives the free `key` to a new flight. */
  take(key: string, flight: Flight): void {
    this.#flights.set(key, flight);
  }

  /** Frees `key` if `flight` still holds it; whether it did. */
  release(key: string, flight: Flight | undefined): boolean {
    if (flight === undefined || !flight.holdsKey) return false;
    flight.holdsKey = false;
    this.#flights.delete(key);
    return true;
  }

  get size(): number {
    return this.#flights.size;
  }

  /** The key as users see it, in errors and in `forget()`. */
  whole(key: string): string {
    return this.prefix === '' ? key : this.prefix + key;
  }
}

/** A group's keyspaces: its own, and one per decorated method (`Class.method`, no ':' in it). */
export class Keyspaces {
  readonly own = new Keyspace('');
  readonly #scopes = new Map<string, Keyspace>();

  /** The keyspace of the decorated method `scope`, made on first use. */
  of(scope: string): Keyspace {
    let space = this.#scopes.get(scope);
    if (space === undefined) this.#scopes.set(scope, (space = new Keyspace(`${scope}:`)));
    return space;
  }

  /**
   * Frees `key` wherever a flight holds it: among the group's own keys and, for a decorated
   * method's whole key `Class.method:<key>`, among that method's. How many flights let go.
   */
  release(key: string): number {
    let released = this.own.release(key, this.own.get(key)) ? 1 : 0;
    const colon = key.indexOf(':');
    const space = colon < 0 ? undefined : this.#scopes.get(key.slice(0, colon));
    const rest = key.slice(colon + 1);
    if (space?.release(rest, space.get(rest))) released++;
    return released;
  }

  /** The number of keys in flight. */
  get size(): number {
    let size = this.own.size;
    for (const space of this.#scopes.values()) size += space.size;
    return size;
  }
}
