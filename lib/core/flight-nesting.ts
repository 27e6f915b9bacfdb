import { AsyncLocalStorage } from 'node:async_hooks';
import { type Flight, extraOf, parentOf } from './flight.js';
import type { Work } from './group.interfaces.js';
import { isWithin } from './nesting.js';
import * as messages from './singleflight.messages.js';
import { cycleTo, runAs, waitFor, waitingNode } from './wait-for.js';

/**
 * A Group's detectAsyncReentry: which flight's work is running, across its awaits, and each
 * flight's place in the wait-for graph (one graph with WriteGroup runs), so that a call that would
 * wait for itself is refused instead of hanging.
 */
export class FlightNesting {
  readonly #running = new AsyncLocalStorage<Flight>();

  /** A new flight of the key `whole`: the flight whose work started it, and its node. */
  place(flight: Flight, whole: string): void {
    const parent = this.#running.getStore();
    if (parent !== undefined) extraOf(flight).parent = parent;
    extraOf(flight).node = { key: whole, waitsOn: undefined };
  }

  /** Runs the work of a placed flight as the running one. */
  run<T>(flight: Flight<T>, fn: Work<T>, signal: AbortSignal): T | PromiseLike<T> {
    return this.#running.run(flight, runAs, flight.extra!.node!, fn, [signal]);
  }

  /**
   * Why a call joining `flight` now would wait for itself, as the message of its refusal: it comes
   * from inside that flight's work after an await, or from a flight that work started, or through
   * a wait on flights of other keys that comes back to it. Undefined: it may join.
   */
  refusal(flight: Flight, whole: () => string): string | undefined {
    if (isWithin(this.#running.getStore(), flight, parentOf)) return messages.REENTRY(whole());
    const cycle = cycleTo(flight.extra!.node!);
    return cycle === undefined ? undefined : messages.REENTRY_CYCLE(cycle);
  }

  /**
   * A call made from inside a work (this group's or another engine's, such as a MergeWrites run):
   * that work now waits for `flight` until `waited` settles.
   */
  waits(flight: Flight, waited: Promise<unknown>): void {
    const from = waitingNode();
    if (from !== undefined) waitFor(from, flight.extra!.node!, waited);
  }
}
