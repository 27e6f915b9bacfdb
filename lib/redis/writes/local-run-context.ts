import { QuietSignals } from '../../core/quiet-signal.js';
import type { WriteRunContext } from './distributed-write-group.interfaces.js';

/** Pushes that run in-process are never taken away, so their signals never abort. */
const quiet = new QuietSignals();

/**
 * The context of a push that runs in-process (no lease): `fence` as the caller gives it (0 without
 * Redis, where the runs of one instance never overlap; the instance's clock during an outage), and
 * a signal that never aborts.
 */
export function localRunContext(key: string, fence: number): WriteRunContext {
  return { key, fence, signal: quiet.next() };
}
