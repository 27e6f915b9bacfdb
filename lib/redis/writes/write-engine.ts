import type { RedisScript } from '../coordinator/coordinator.interface.js';
import type { CoordinationLink, CoordinationLog } from '../shared/coordination-link.js';
import type { DistributedWriteGroupStats } from './distributed-write-group.interfaces.js';
import type { WriteSettings } from './write.options.js';
import type { RunStart } from './write.replies.js';
import type { WriteArgs } from './write-args.js';
import type { AnyRun, Caller } from './write-callers.js';
import type { InProcessWrites } from './write-fallback.js';
import type { WriteHandlers } from './write-handlers.js';
import type { KeyState, KeyTable } from './write-key-state.js';
import type { Carried } from './write-version.js';

// The parts of one DistributedWriteGroup and what they share. The group makes a WriteEngine once;
// each part (events, pushes, outage, sweep) is written against this file alone, so the parts call
// one another through it and never import one another.

/** The counters of one instance: its stats without the live figures (the link, the keys). */
export type WriteCounts = Omit<
  DistributedWriteGroupStats,
  'coordinationErrors' | 'breakerOpen' | 'waiting' | 'size'
>;

/** A lease this instance took: its token, and when the script that took it was sent. */
export interface Taken {
  readonly token: string;
  readonly sent: number;
}

/** The EVENT round trips of the keys (write-events.ts). */
export interface Events {
  /** Sends one EVENT for `callers` (none: a nudge) with `carried`'s arguments. */
  send(state: KeyState, callers: Caller[], carried: Carried, store: boolean): Promise<void>;
  /** An EVENT without a caller; after the one in flight, if there is one. */
  nudge(state: KeyState, carried: Carried, store: boolean): void;
  /** Callers whose events Redis lost: their events go to Redis again. */
  resend(state: KeyState, lost: Caller[]): void;
}

/** This instance's pushes: the loop that holds a lease, and recovery (write-pushes.ts). */
export interface Pushes {
  start(state: KeyState, taken: Taken, run: RunStart): void;
  /** Push here if work is pending and nobody runs it (a recovery timer, a retry, the sweep). */
  recover(state: KeyState): Promise<void>;
  scheduleRecover(state: KeyState, delayMs: number): void;
  /** How long to wait before checking on a runner whose lease has `pttl` ms left. */
  afterLease(pttl: number): number;
}

/** Redis unusable: in-process pushes, and the events owed to Redis (write-outage.ts). */
export interface Outage {
  /** A Redis error, timeout or lost connection. */
  failed(error: unknown): void;
  /** Pushes `callers` in-process; they settle with that push's outcome. */
  fallBack(state: KeyState, callers: Caller[]): void;
  runLocal(key: string, carried: Carried, run: AnyRun): Promise<unknown>;
  /** Sends the events owed to Redis, once it answers again. */
  repay(): void;
}

export interface WriteEngine {
  readonly settings: WriteSettings;
  /** The codec and seal of the arguments. */
  readonly args: WriteArgs;
  readonly link: CoordinationLink;
  readonly log: CoordinationLog;
  readonly counts: WriteCounts;
  readonly keys: KeyTable;
  readonly handlers: WriteHandlers;
  readonly local: InProcessWrites;
  /** `${namespace}:wdone`, on which FINISH announces `id\ndone`. */
  readonly channel: string;
  readonly events: Events;
  readonly pushes: Pushes;
  readonly outage: Outage;
  /** close() was called. */
  closed(): boolean;
  /** Subscribed, breaker closed, not closed: worth a command. */
  usable(): boolean;
  /** A script call; once Redis answers again, the events owed from an outage are sent. */
  eval(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown>;
}
