import { keyHash } from '../coordinator/script-sha.js';
import { type AnyRun, type Caller, claim, closedError, rejectCaller } from './write-callers.js';
import { RecoveryTimer } from './write-recovery.js';
import type { Carried } from './write-version.js';

/** A call's `version(args)`, as `do()` got it. */
export type VersionOf = (args: any[]) => number;

/** A caller-less event: a re-queue after a lost lease, the ledger's sweep, an outage's debt. */
export interface Nudge extends Carried {
  /** '1': its arguments replace the stored ones (by version if any); '0': only fill a gap. */
  readonly store: boolean;
}

/**
 * A key's EVENT round trip: at most one in flight per key and instance. Written by WriteEvents
 * alone (and emptied by close).
 */
export class Outbox {
  /** An EVENT is in flight, for the callers in `batch`. */
  sending = false;
  batch: Caller[] = [];
  /** Calls made during that round trip: the next EVENT carries the newest one's arguments. */
  queue: Caller[] = [];
  /** A caller-less EVENT to send after the one in flight, if no queued call does it. */
  nudge: Nudge | undefined = undefined;
}

/** This instance's push loop of the key, while it holds the lease. Written by WritePushes alone. */
export class Runner {
  /** Settles when the loop ends; undefined while this instance runs no push of the key. */
  running: Promise<void> | undefined = undefined;
  /** The first `ver` the current push covers: callers up to it get its value. */
  startVer = 0;
  /** The startVer of a push whose FINISH is in flight (0 otherwise): its reply settles them. */
  finishing = 0;
}

/** What this instance knows and does about one key; dropped as soon as it holds nothing. */
export class KeyState {
  /** The Redis keys (docs/redis-writes.md, "Keys"); one hash tag, one Cluster slot. */
  readonly lease: string;
  readonly st: string;
  /** The newest local call's push and `version` (written by do()); recovery and the sweep use them. */
  run: AnyRun | undefined = undefined;
  version: VersionOf | undefined = undefined;
  readonly outbox = new Outbox();
  /** Callers whose EVENT landed, in `ver` order; each leaves once settled, timed out or fallen back. */
  waiting: Caller[] = [];
  /**
   * The highest `ver` this instance's EVENTs got; while `done` is below it, a recovery timer
   * watches the runner. Reset to 0 when Redis lost events (they are sent again).
   */
  seen = 0;
  readonly runner = new Runner();
  readonly recovery = new RecoveryTimer();

  constructor(
    readonly key: string,
    /** The hash tag of the key, which the wake-up message `id\ndone` names. */
    readonly id: string,
    namespace: string,
  ) {
    this.lease = `${namespace}:{${id}}:lease`;
    this.st = `${namespace}:{${id}}:st`;
  }

  /** Settles the waiting callers with `ver <= upTo` (the list is in `ver` order). */
  settle(upTo: number, settle: (caller: Caller) => void): void {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.ver <= upTo) n++;
    for (const caller of this.waiting.splice(0, n)) if (claim(caller)) settle(caller);
  }

  /**
   * The newest call of this instance a push from `startVer` carries (the last waiting caller with
   * `ver <= startVer`), or undefined when it carries only other instances' events.
   */
  newestCarried(startVer: number): Caller | undefined {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.ver <= startVer) n++;
    return n === 0 ? undefined : this.waiting[n - 1];
  }

  /** A push covered `done`: if that is every event this instance saw, its crash watch is over. */
  pushed(done: number): void {
    if (done < this.seen || !this.recovery.armed) return;
    this.recovery.clear();
    this.recovery.failures = 0;
  }

  /** Holds nothing: no EVENT, caller, push or timer. */
  get idle(): boolean {
    const { outbox } = this;
    return (
      !outbox.sending &&
      outbox.queue.length === 0 &&
      outbox.nudge === undefined &&
      this.waiting.length === 0 &&
      this.runner.running === undefined &&
      !this.recovery.armed
    );
  }
}

/** The keys this instance tracks, by user key and by hash tag (for wake-up messages). */
export class KeyTable {
  readonly #keys = new Map<string, KeyState>();
  readonly #ids = new Map<string, KeyState>();

  constructor(private readonly namespace: string) {}

  get size(): number {
    return this.#keys.size;
  }

  /** The state of `key`, made if there is none. */
  state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      const id = keyHash(this.namespace, key);
      state = new KeyState(key, id, this.namespace);
      this.#keys.set(key, state);
      this.#ids.set(id, state);
    }
    return state;
  }

  get(key: string): KeyState | undefined {
    return this.#keys.get(key);
  }

  byId(id: string): KeyState | undefined {
    return this.#ids.get(id);
  }

  values(): IterableIterator<KeyState> {
    return this.#keys.values();
  }

  /** Drops `state` once it holds nothing (and is still the key's current state). */
  tidy(state: KeyState): void {
    if (!state.idle || this.#keys.get(state.key) !== state) return;
    this.#keys.delete(state.key);
    this.#ids.delete(state.id);
  }

  /**
   * The wake-up `id\ndone` of a FINISH anywhere in the fleet: the key's callers up to `done`
   * settle (with `undefined`: the push's value stays where it ran).
   */
  announced(message: string): void {
    const cut = message.indexOf('\n');
    const state = this.#ids.get(message.slice(0, cut));
    // Our own FINISH in flight settles its callers with the value when its reply comes.
    if (state === undefined || state.runner.finishing > 0) return;
    const done = Number(message.slice(cut + 1));
    state.pushed(done);
    state.settle(done, (caller) => caller.resolve(undefined));
    this.tidy(state);
  }

  /**
   * On close: stops every recovery timer and rejects every caller still waiting (their writes
   * stay recorded in Redis); returns the pushes still running.
   */
  closeAll(): Promise<void>[] {
    const running: Promise<void>[] = [];
    for (const state of this.#keys.values()) {
      state.recovery.clear();
      const { batch, queue } = state.outbox;
      for (const caller of [...batch, ...queue, ...state.waiting.splice(0)]) {
        rejectCaller(caller, closedError(state.key));
      }
      if (state.runner.running !== undefined) running.push(state.runner.running);
      this.tidy(state);
    }
    return running;
  }

  /** Callers of every key still waiting for a push. */
  waiting(): number {
    let n = 0;
    for (const state of this.#keys.values()) {
      const { batch, queue } = state.outbox;
      for (const list of [batch, queue, state.waiting]) {
        for (const caller of list) if (!caller.settled) n++;
      }
    }
    return n;
  }
}
