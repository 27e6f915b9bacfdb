import * as messages from '../redis.messages.js';
import type { CoordinationLink, CoordinationLog } from '../shared/coordination-link.js';
import { EXTEND } from '../shared/lease.scripts.js';
import { replyFlag } from '../shared/script-reply.js';

/** A leader's lease and its renewal timer. `lost` is set once, by the first sign it is gone. */
export interface Lease {
  readonly key: string;
  timer: ReturnType<typeof setInterval> | undefined;
  lost: boolean;
}

/** What the leases count into the flight's stats. */
export interface LeaseCounts {
  renewals: number;
  leaseLost: number;
}

/**
 * The leases this instance's leaders hold, renewed every leaseMs/3 (compare-and-pexpire) while
 * their work runs. A lost lease is counted and logged; the work goes on (it is a read, and the
 * worst case is one duplicate call elsewhere).
 */
export class FlightLeases {
  readonly #held = new Set<Lease>();

  constructor(
    private readonly link: CoordinationLink,
    private readonly leaseMs: number,
    private readonly counts: LeaseCounts,
    private readonly log: CoordinationLog,
  ) {}

  /** Starts renewing the lease `lock` that `token` holds for `key`. */
  renew(key: string, lock: string, token: string): Lease {
    const lease: Lease = { key, timer: undefined, lost: false };
    let pending = false;
    lease.timer = setInterval(
      () => {
        // One renewal at a time: against a hung server they would pile up.
        if (pending || this.link.isOpen) return;
        pending = true;
        this.link.coordinator.eval(EXTEND, [lock], [token, this.leaseMs]).then(
          (renewed) => {
            pending = false;
            if (replyFlag(renewed)) this.counts.renewals++;
            else this.lost(lease);
          },
          (error: unknown) => {
            pending = false;
            this.link.failed(error);
          },
        );
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    // A renewal must not keep a process alive that has nothing else to do.
    lease.timer.unref();
    this.#held.add(lease);
    return lease;
  }

  stop(lease: Lease): void {
    clearInterval(lease.timer);
    this.#held.delete(lease);
  }

  /** A renewal or COMPLETE found the lease gone: counted and logged once per lease. */
  lost(lease: Lease): void {
    this.stop(lease);
    if (lease.lost) return;
    lease.lost = true;
    this.counts.leaseLost++;
    this.log(messages.LEASE_LOST(lease.key, this.leaseMs));
  }

  /** The flight closed: no renewal timer is left behind. */
  clear(): void {
    for (const lease of this.#held) clearInterval(lease.timer);
    this.#held.clear();
  }
}
