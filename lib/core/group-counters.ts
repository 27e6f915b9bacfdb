import type { LeaveReason } from './caller-wait.js';
import type { GroupStats } from './group.interfaces.js';

/** The counters behind `Group.stats()`; only the Group that owns them writes them. */
export class GroupCounters {
  /** Flights started, the reruns among them. */
  flights = 0;
  joins = 0;
  /** Calls that neither started nor joined a flight: re-entries, bad work, aborted before. */
  refused = 0;
  /** Flights run again for the joiners of a failed flight: those joiners were counted already. */
  reruns = 0;
  errors = 0;
  timeouts = 0;
  aborts = 0;
  forgets = 0;

  /** A caller left its flight early: its timeout fired, or its signal aborted. */
  left(reason: LeaveReason): void {
    if (reason === 'timeout') this.timeouts++;
    else this.aborts++;
  }

  /** The stats of a group with `size` keys in flight. Every call started, joined or was refused. */
  stats(size: number): GroupStats {
    const { flights, joins, errors, timeouts, aborts, forgets } = this;
    const calls = flights + joins + this.refused - this.reruns;
    return { calls, flights, joins, errors, timeouts, aborts, forgets, size };
  }
}
