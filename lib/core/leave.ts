import { type Flight, extraOf } from './flight.js';
import type { Work } from './group.interfaces.js';
import type { Keyspace } from './keyspace.js';
import type { LeaveReason } from './caller-wait.js';
import type { CallRules } from './call-rules.js';
import { SingleflightAbortError, SingleflightTimeoutError } from './singleflight.errors.js';
import * as messages from './singleflight.messages.js';

/** Marks the flight settled and frees its key, unless forget() or an expiry freed it already. */
export function settle(flight: Flight, space: Keyspace, key: string): void {
  flight.settled = true;
  space.release(key, flight);
}

/**
 * A caller left `flight` early (its timeout or signal). When it was the last caller waiting, the
 * flight settles: its work's signal aborts and the key is free for new callers. A retrier (a joiner
 * that waits for the retry of a failed flight) leaves the retry flight once it began.
 */
function leave(flight: Flight, space: Keyspace, key: string, retrier: boolean): void {
  if (retrier) {
    const extra = extraOf(flight);
    if (extra.next !== undefined) return leave(extra.next, space, key, false);
    extra.retriers--;
  }
  if (flight.settled || --flight.waiting > 0) return;
  settle(flight, space, key);
  const whole = space.whole(key);
  flight.extra?.controller?.abort(
    new SingleflightAbortError(whole, undefined, messages.ABANDONED(whole)),
  );
}

/**
 * The signal of a flight whose callers may all leave: it aborts when the last one does. Only for
 * work that declares the parameter; other work gets none.
 */
export function ownSignal(flight: Flight, fn: Work<unknown>): AbortSignal | undefined {
  return fn.length > 0 ? (extraOf(flight).controller = new AbortController()).signal : undefined;
}

/**
 * A caller's timeout fired or its signal aborted before its flight settled: it leaves the flight
 * (which goes on for the others), and this is the error its call rejects with.
 */
export function leaveEarly(
  reason: LeaveReason,
  flight: Flight,
  space: Keyspace,
  key: string,
  retrier: boolean,
  { timeout, signal }: CallRules,
): Error {
  leave(flight, space, key, retrier);
  const whole = space.whole(key);
  return reason === 'timeout'
    ? new SingleflightTimeoutError(whole, timeout!)
    : new SingleflightAbortError(whole, signal!.reason);
}
