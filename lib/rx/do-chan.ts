import { Observable } from 'rxjs';
import type { Group } from '../core/group.js';
import type { CallOptions, FlightResult, Work } from '../core/group.interfaces.js';
import { isPlainObject } from '../core/options.validator.js';
import { SignalListeners } from '../core/signal-listeners.js';

/**
 * The subscriptions waiting on each caller's signal, with one listener per signal: a long-lived
 * signal (a server's shutdown signal) is given to many calls, and must hold nothing of a
 * subscription once it ended. (AbortSignal.any() would not do: Node 20 keeps a reference to each
 * signal it derives on the signals it derives it from, until they abort.)
 */
const callerSignals = new SignalListeners();

/**
 * Go's `DoChan` as an Observable: `group.doResult(key, fn, options)` as one `{ value, error,
 * shared }`, then complete. Lazy: each subscription is a call; unsubscribing is that caller leaving
 * (as its signal aborting would), and never disturbs the other callers of the flight.
 *
 * ```ts
 * doChan$(group, `user:${id}`, () => api.fetchUser(id)).subscribe(({ value, error, shared }) => {});
 * ```
 * @publicApi
 */
export function doChan$<T>(
  group: Group,
  key: string,
  fn: Work<T>,
  options: CallOptions = {},
): Observable<FlightResult<T>> {
  return new Observable<FlightResult<T>>((subscriber) => {
    const leave = new AbortController();
    // The caller's own signal makes this subscription leave, as unsubscribing does. One already
    // aborted, or bad options (not an object, a bad signal, a getter that throws), are passed on
    // as they are, so doResult reports them as { error } like any bad input.
    const given = isPlainObject(options) ? signalOf(options) : undefined;
    const follows = given instanceof AbortSignal && !given.aborted ? given : undefined;
    const onAbort = () => leave.abort(follows!.reason);
    const stop = () => {
      if (follows !== undefined) callerSignals.remove(follows, onAbort);
    };
    if (follows !== undefined) callerSignals.add(follows, onAbort);
    const own =
      given === undefined || follows !== undefined ? withSignal(options, leave.signal) : options;
    void group.doResult(key, fn, own as CallOptions).then((result) => {
      stop();
      subscriber.next(result);
      subscriber.complete();
    });
    return () => {
      stop();
      leave.abort();
    };
  });
}

/** Stands for a `signal` option whose getter threw. */
const UNREADABLE = Symbol('unreadable');

function signalOf(options: Record<string, unknown>): unknown {
  try {
    return options.signal;
  } catch {
    return UNREADABLE;
  }
}

/** A copy of `options` with `signal`; options that are no object or cannot be read, as they are. */
function withSignal(options: unknown, signal: AbortSignal): unknown {
  if (!isPlainObject(options)) return options;
  try {
    return { ...options, signal };
  } catch {
    return options;
  }
}
