import type { WaitNode } from './wait-for.js';

/**
 * One execution of the work for a key, and what its callers share (Go's `call`). Only its Group
 * writes it (through rerun.ts for the joiners of a failed flight); nothing outside the core sees it.
 */
export interface Flight<T = unknown> {
  /**
   * The outcome every caller gets, set once the work has returned. Undefined while the work runs
   * synchronously: a call that finds the flight then comes from inside its work.
   */
  promise: Promise<T>;
  /** Callers that joined after the leader (Go's `dups`); only ever grows. */
  dups: number;
  /** Callers still waiting: the leader and the joiners that have not left. */
  waiting: number;
  /**
   * Set once, when the work's outcome is in or the last caller left: after that the flight takes
   * no joiner and holds no key, and leaving it changes nothing.
   */
  settled: boolean;
  /** Whether its Keyspace maps its key to it; only the Keyspace writes it (see Keyspace). */
  holdsKey: boolean;
  /** What only some flights need; undefined for most, made by `extraOf` when first needed. */
  extra: FlightExtra<T> | undefined;
}

/** A flight about to run its work: no promise yet, its leader waiting, holding its key. */
export function newFlight<T>(): Flight<T> {
  return {
    promise: undefined!,
    dups: 0,
    waiting: 1,
    settled: false,
    holdsKey: true,
    extra: undefined,
  };
}

/** What only some flights need: a signal, an expiry, a place in the wait-for graph, a retry. */
export class FlightExtra<T> {
  /** With detectAsyncReentry: the flight whose work started this one, to tell re-entry from nesting. */
  parent: Flight | undefined = undefined;
  /** With detectAsyncReentry: this flight in the wait-for graph, to find a cycle between flights. */
  node: WaitNode | undefined = undefined;
  /** Aborts the work's signal when every caller has left; only for work that can be left. */
  controller: AbortController | undefined = undefined;
  /** With forgetAfter: when (performance.now()) the flight stops taking joiners. */
  expires: number | undefined = undefined;
  /** With shareErrors off: the one new flight the joiners of this one run if it fails. */
  retry: Promise<T> | undefined = undefined;
  /** Joiners waiting on `retry` that have not left: they become waiters of `next`. */
  retriers = 0;
  /** The flight `retry` started or joined, set once it did; a joiner that leaves now leaves that. */
  next: Flight<T> | undefined = undefined;
}

export function extraOf<T>(flight: Flight<T>): FlightExtra<T> {
  return (flight.extra ??= new FlightExtra<T>());
}

/** The flight whose work started `flight`, as far as detectAsyncReentry knows. */
export function parentOf(flight: Flight): Flight | undefined {
  return flight.extra?.parent;
}
