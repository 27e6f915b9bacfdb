import { type Flight, extraOf } from './flight.js';
import { waitFor } from './wait-for.js';

/**
 * A joiner's outcome with shareErrors off: its flight's value; or, if that flight fails, the
 * outcome of one new flight that the joiners still waiting run together, made by `rerun` (which
 * starts or joins the key's flight as one caller). Each joiner of the failed flight then waits on
 * that one, and may leave it, on its own.
 */
export function rerunOnError<T>(flight: Flight<T>, rerun: () => Flight<T>): Promise<T> {
  const extra = extraOf(flight);
  extra.retriers++;
  return (extra.retry ??= flight.promise.catch((error: unknown) => {
    // Every joiner left while the first flight ran: nobody to run it again for.
    if (extra.retriers === 0) throw error;
    const next = (extra.next = rerun());
    next.waiting += extra.retriers - 1;
    next.dups += extra.retriers - 1;
    // With detectAsyncReentry: what waited for the failed flight now waits for this one.
    if (extra.node !== undefined) waitFor(extra.node, next.extra!.node!, next.promise);
    return next.promise;
  }));
}
