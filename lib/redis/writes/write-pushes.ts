import { randomUUID } from 'node:crypto';
import { backoffDelay } from '../../core/retry.js';
import { SingleflightArgumentError, toError } from '../../core/singleflight.errors.js';
import * as messages from '../redis.messages.js';
import { LeaseSignal } from '../shared/lease-signal.js';
import { EXTEND, RELEASE } from '../shared/lease.scripts.js';
import { replyFlag } from '../shared/script-reply.js';
import { FINISH, RECOVER } from './write.scripts.js';
import {
  type FinishReply,
  type RecoverReply,
  type RunStart,
  parseFinish,
  parseRecover,
} from './write.replies.js';
import type { ArgsRefusal } from './write-args.js';
import { leaseLostError } from './write-callers.js';
import { PushScope } from './push-scope.js';
import type { Pushes, Taken, WriteEngine } from './write-engine.js';
import { observeFence } from './write-fence.js';
import type { KeyState } from './write-key-state.js';
import type { Carried } from './write-version.js';

/**
 * This instance's pushes (docs/redis-writes.md, "Pushes" and "Recovery"). While it holds a key's
 * lease it pushes, renews the lease every leaseMs/3, and FINISHes; FINISH hands the lease straight
 * to the follow-up push when events arrived meanwhile. A recovery timer (the crash watch, a retry)
 * takes the lease with RECOVER when work is pending and nobody runs it.
 */
export class WritePushes implements Pushes {
  /** Where each push runs, and which calls come from inside one. */
  readonly #scope: PushScope;
  /** Set once refused arguments were logged: one line per instance, however many follow. */
  #refusalLogged = false;

  constructor(private readonly engine: WriteEngine) {
    this.#scope = new PushScope(engine.settings.detectAsyncReentry);
  }

  /** Whether this call comes from the running push of `key` itself (it would wait for itself). */
  isReentry(key: string): boolean {
    return this.#scope.isReentry(key);
  }

  start(state: KeyState, taken: Taken, run: RunStart): void {
    let end!: () => void;
    const running = new Promise<void>((resolve) => (end = resolve));
    state.runner.running = running;
    void this.#loop(state, taken, run)
      .catch((error: unknown) => this.engine.log(messages.WRITE_LOOP_FAILED(state.key), error))
      .finally(() => {
        if (state.runner.running === running) state.runner.running = undefined;
        end();
        this.engine.keys.tidy(state);
      });
  }

  async recover(state: KeyState): Promise<void> {
    const { engine } = this;
    const { leaseMs, breakerMs } = engine.settings;
    if (engine.closed() || state.runner.running !== undefined) return engine.keys.tidy(state);
    if (!engine.usable()) return this.scheduleRecover(state, breakerMs);
    const token = randomUUID();
    const sent = performance.now();
    let reply: RecoverReply;
    try {
      reply = parseRecover(await engine.eval(RECOVER, [state.lease, state.st], [token, leaseMs]));
    } catch (error) {
      engine.outage.failed(error);
      return this.scheduleRecover(state, breakerMs);
    }
    if (reply.code === 'run') {
      engine.counts.recovered++;
      return this.start(state, { token, sent }, reply);
    }
    // Doubles as the poll for a wake-up lost on the way (pub/sub is at-most-once).
    state.pushed(reply.done);
    state.settle(reply.done, (caller) => caller.resolve(undefined));
    if (reply.code === 'running') {
      // Someone runs; watch for their crash while events this instance saw are not pushed yet.
      if (reply.done < state.seen) this.scheduleRecover(state, this.afterLease(reply.pttl));
    } else if (state.waiting.length > 0) {
      // Nothing pending, yet callers wait: Redis lost the state (restart, FLUSHALL, eviction).
      engine.events.resend(state, state.waiting.splice(0));
    }
    engine.keys.tidy(state);
  }

  scheduleRecover(state: KeyState, delayMs: number): void {
    if (this.engine.closed()) return;
    state.recovery.schedule(delayMs, () => void this.recover(state));
  }

  afterLease(pttl: number): number {
    const slack = this.engine.settings.recoverSlackMs;
    return Math.max(0, pttl) + slack + Math.random() * slack;
  }

  /** Holds the lease: push, FINISH, and again for as long as events arrived during the push. */
  async #loop(state: KeyState, { token, sent }: Taken, first: RunStart): Promise<void> {
    const { engine } = this;
    const { key } = state;
    const { leaseMs, ledger } = engine.settings;
    let { startVer, fence, carried } = first;
    // This instance's in-process pushes of the key (an outage just ended) land first.
    await engine.local.ended(key);
    for (;;) {
      state.runner.startVer = startVer;
      observeFence(fence);
      // The fn of the newest call of ours it carries, run in that call's context (see #push).
      const caller = state.newestCarried(startVer);
      const run = caller?.run ?? engine.handlers.runFor(state);
      if (run === undefined || carried.json === '') {
        engine.log(run === undefined ? messages.WRITE_NO_RUN(key) : messages.WRITE_NO_ARGS(key));
        await this.#release(state, token);
        return;
      }
      const opened = engine.args.open(state.st, carried.json);
      if (typeof opened === 'string') {
        await this.#refuse(state, token, startVer, opened);
        return;
      }
      // Unsealed, as the engine keeps arguments: a nudge after a lost lease seals them again.
      carried = { json: opened.text, version: carried.version };
      const { args } = opened;
      engine.counts.runs++;
      const lease = new LeaseSignal(sent, leaseMs, () => leaseLostError(key));
      const renewal = setInterval(
        () => void this.#extend(state, token, lease),
        Math.floor(leaseMs / 3),
      );
      renewal.unref();
      let value: unknown;
      try {
        if (ledger !== undefined) await ledger.started(key, fence, args);
        const context = { key, fence, signal: lease.signal };
        value = await this.#scope.run(caller, state, run, args, context);
      } catch (thrown) {
        if (lease.signal.aborted) {
          // Another instance may hold the key now: its push covers these callers.
          this.#leaseLost(state, carried);
          return;
        }
        const error = toError(key, thrown);
        engine.counts.failures++;
        state.settle(startVer, (caller) => caller.reject(error));
        await this.#release(state, token);
        this.#retryLater(state, error);
        return;
      } finally {
        clearInterval(renewal);
        lease.dispose();
      }
      state.recovery.failures = 0;
      if (ledger !== undefined) {
        await ledger
          .finished(key, fence, args)
          .catch((error: unknown) => engine.log(messages.WRITE_LEDGER_FAILED('finished()'), error));
      }
      const reply = await this.#finish(state, token, startVer, value);
      if (reply === undefined) return;
      // A follow-up keeps the lease: FINISH renewed it, from the time it was sent.
      sent = reply.sent;
      if (reply.code === 'lost') {
        this.#leaseLost(state, carried);
        return;
      }
      state.pushed(reply.done);
      state.settle(reply.done, (caller) =>
        caller.resolve(caller.ver <= startVer ? value : undefined),
      );
      if (reply.code === 'done') {
        // Redis has no event after `done`: callers still waiting lost theirs (a lost state).
        if (state.waiting.length > 0) engine.events.resend(state, state.waiting.splice(0));
        return;
      }
      if (engine.closed()) {
        await this.#release(state, token);
        return;
      }
      engine.counts.followUps++;
      ({ startVer, fence, carried } = reply);
    }
  }

  /** FINISH after a push; undefined when Redis failed (its callers are served, the rest fall back). */
  async #finish(
    state: KeyState,
    token: string,
    startVer: number,
    value: unknown,
  ): Promise<(FinishReply & { sent: number }) | undefined> {
    const { engine } = this;
    state.runner.finishing = startVer;
    const sent = performance.now();
    try {
      const args = [token, engine.settings.leaseMs, startVer, engine.channel, state.id];
      const reply = parseFinish(await engine.eval(FINISH, [state.lease, state.st], args));
      return { ...reply, sent };
    } catch (error) {
      // The push landed, so its callers are served; what came later runs in-process.
      state.settle(startVer, (caller) => caller.resolve(value));
      engine.outage.failed(error);
      return undefined;
    } finally {
      state.runner.finishing = 0;
    }
  }

  #retryLater(state: KeyState, error: Error): void {
    const { retry } = this.engine.settings;
    const { recovery } = state;
    recovery.failures++;
    if (recovery.failures >= retry.attempts) {
      this.engine.log(messages.WRITE_RETRIES_EXHAUSTED(state.key, recovery.failures), error);
      recovery.failures = 0;
      return;
    }
    this.scheduleRecover(state, Math.max(0, backoffDelay(retry, recovery.failures, error)));
  }

  /**
   * Arguments read from Redis that are forged or unreadable are never pushed: the callers this run
   * covers reject, the lease is freed, and the write stays pending until a call stores its own
   * arguments (its event takes the lease) or the sweep finds it again.
   */
  async #refuse(state: KeyState, token: string, startVer: number, why: ArgsRefusal) {
    const { engine } = this;
    engine.counts.rejectedArgs++;
    const message = messages.WRITE_ARGS_REFUSED(engine.settings.namespace, state.key, why);
    if (!this.#refusalLogged) {
      this.#refusalLogged = true;
      engine.log(message);
    }
    const error = new SingleflightArgumentError(message);
    state.settle(startVer, (caller) => caller.reject(error));
    await this.#release(state, token);
  }

  #leaseLost(state: KeyState, carried: Carried): void {
    this.engine.counts.leaseLost++;
    this.engine.log(messages.WRITE_LEASE_LOST(state.key));
    // This push may have landed after a newer one: a new event makes sure one more push follows.
    this.engine.events.nudge(state, carried, false);
  }

  /** Renews the lease; the push's signal aborts when it is gone, or once it may be (no reply). */
  async #extend(state: KeyState, token: string, lease: LeaseSignal): Promise<void> {
    const sent = performance.now();
    try {
      const held = await this.engine.eval(
        EXTEND,
        [state.lease],
        [token, this.engine.settings.leaseMs],
      );
      if (replyFlag(held)) lease.renewed(sent);
      else lease.lost();
    } catch (error) {
      this.engine.outage.failed(error);
    }
  }

  async #release(state: KeyState, token: string): Promise<void> {
    try {
      await this.engine.eval(RELEASE, [state.lease], [token]);
    } catch (error) {
      this.engine.outage.failed(error); // the lease expires on its own
    }
  }
}
