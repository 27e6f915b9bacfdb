import { MAX_TIMER_MS } from '../../core/options.validator.js';
import { type AnyRun, type Caller, claim, inCallerScope } from './write-callers.js';
import type { Outage, WriteEngine } from './write-engine.js';
import type { KeyState } from './write-key-state.js';
import type { Carried } from './write-version.js';

/**
 * Redis unusable (docs/redis-writes.md, "Outages"): the callers that wait on Redis are pushed
 * in-process instead, and each key pushed in-process is owed one event, sent once Redis answers
 * again (a reply, or the connections back), after its in-process pushes have ended.
 */
export class WriteOutage implements Outage {
  #healTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly engine: WriteEngine,
    /** Subscribes to the wake-up channel; true once Redis acknowledged it. */
    private readonly subscribe: () => Promise<boolean>,
  ) {}

  /** Called by the link after each failure (the breaker is open, the outage logged once). */
  failed(error: unknown): void {
    this.engine.link.failed(error);
  }

  /** The link's reaction to a failure: callers that wait on Redis would wait in vain. */
  onFailed(): void {
    for (const state of this.engine.keys.values()) {
      // Callers this instance's running push covers get its outcome still.
      const covered = state.runner.running !== undefined ? state.runner.startVer : 0;
      const rest = state.waiting.filter((caller) => caller.ver > covered);
      if (rest.length === 0) continue;
      state.waiting = state.waiting.filter((caller) => caller.ver <= covered);
      this.fallBack(state, rest);
      this.engine.keys.tidy(state);
    }
    this.#scheduleHeal();
  }

  fallBack(state: KeyState, callers: Caller[]): void {
    for (const caller of callers) {
      const waits = claim(caller);
      // Run even for a caller that gave up: its write must not be lost. In the caller's context:
      // this runs from whichever call met the failure.
      const outcome = inCallerScope(caller, () => this.runLocal(state.key, caller, caller.run));
      if (waits) outcome.then(caller.resolve, caller.reject);
      else outcome.catch(() => undefined);
    }
  }

  runLocal(key: string, carried: Carried, run: AnyRun): Promise<unknown> {
    this.engine.counts.localFallbacks++;
    return this.engine.local.run(key, carried, run, this.engine.keys.get(key)?.runner.running);
  }

  /**
   * Redis answers again: each key this instance pushed in-process meanwhile gets one event, once
   * its in-process pushes have ended. So the key's last push goes through the fleet, after every
   * in-process push, with a fence above theirs; with versions it carries the newest arguments
   * any instance saw (a push that reads the store reads the newest state anyway).
   */
  repay(): void {
    const { engine } = this;
    engine.local.repay((key, owed) => {
      if (engine.closed()) return;
      if (!engine.usable()) return engine.local.owe(key, owed, owed.run);
      const state = engine.keys.state(key);
      state.run ??= owed.run;
      engine.events.nudge(state, owed, false);
    });
  }

  /** The breaker closed or the connections are back: subscribe if that never worked, and repay. */
  async heal(): Promise<void> {
    const { engine } = this;
    if (engine.closed()) return;
    if (engine.link.isOpen) return this.#scheduleHeal();
    if (!engine.link.subscribed) await this.subscribe();
    if (engine.local.owing && engine.usable()) this.repay();
  }

  close(): void {
    clearTimeout(this.#healTimer);
  }

  #scheduleHeal(): void {
    if (this.#healTimer !== undefined || this.engine.closed()) return;
    this.#healTimer = setTimeout(
      () => {
        this.#healTimer = undefined;
        void this.heal();
      },
      Math.min(this.engine.settings.breakerMs + 10, MAX_TIMER_MS),
    );
    this.#healTimer.unref();
  }
}
