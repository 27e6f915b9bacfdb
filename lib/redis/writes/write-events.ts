import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { EVENT } from './write.scripts.js';
import { type EventReply, parseEvent } from './write.replies.js';
import {
  type AnyRun,
  type Caller,
  closedError,
  rejectCaller,
  waitTimeoutError,
} from './write-callers.js';
import type { Events, WriteEngine } from './write-engine.js';
import type { KeyState } from './write-key-state.js';
import { type Carried, newest, supersedes } from './write-version.js';

/**
 * The EVENT round trips (docs/redis-writes.md, "Events"): one in flight per key and instance;
 * calls made meanwhile share the next one, which carries the newest of their arguments. The
 * reply either hands this instance the lease (it starts pushing) or names the runner's lease,
 * which a recovery timer then watches.
 */
export class WriteEvents implements Events {
  constructor(private readonly engine: WriteEngine) {}

  /**
   * A call of the key, whose arguments are `carried`: it settles once a push covering its event
   * finished, or rejects after `waitTimeoutMs`. One EVENT per key in flight from this instance;
   * calls made meanwhile share the next one.
   */
  call(state: KeyState, carried: Carried, run: AnyRun): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const caller: Caller = {
        ...carried,
        run,
        resolve,
        reject,
        timer: undefined,
        ver: 0,
        settled: false,
        // A call that finds the key idle here sends its own EVENT: what it starts runs in its context.
        scope: state.idle ? undefined : new AsyncResource('MergeWrites'),
      };
      const { waitTimeoutMs } = this.engine.settings;
      caller.timer = setTimeout(() => this.#timeout(state, caller), waitTimeoutMs);
      if (state.outbox.sending) state.outbox.queue.push(caller);
      else void this.send(state, [caller], caller, true);
    });
  }

  async send(state: KeyState, callers: Caller[], carried: Carried, store: boolean): Promise<void> {
    const { engine } = this;
    const { outbox } = state;
    outbox.sending = true;
    outbox.batch = callers;
    const token = randomUUID();
    const sent = performance.now();
    const { leaseMs, stateTtlMs } = engine.settings;
    // Sealed for the key's state hash: only there do they verify.
    const json = carried.json === '' ? '' : engine.args.seal(state.st, carried.json);
    const args = [token, leaseMs, json, state.key, stateTtlMs, store ? '1' : '0'];
    let reply: EventReply;
    try {
      const raw = await engine.eval(
        EVENT,
        [state.lease, state.st],
        [...args, carried.version ?? ''],
      );
      reply = parseEvent(raw);
    } catch (error) {
      outbox.sending = false;
      outbox.batch = [];
      const queued = outbox.queue.splice(0);
      const nudge = outbox.nudge;
      outbox.nudge = undefined;
      engine.outage.failed(error);
      engine.outage.fallBack(state, [...callers, ...queued]);
      // A caller-less event (a re-queue) is owed to Redis still: sent once it answers again.
      if (callers.length + queued.length === 0) {
        const owed = nudge !== undefined && supersedes(carried, nudge) ? nudge : carried;
        engine.local.owe(state.key, owed, state.run);
      }
      engine.keys.tidy(state);
      return;
    }
    engine.counts.events++;
    outbox.sending = false;
    outbox.batch = [];
    const { ver } = reply;
    // Callers whose `ver` Redis has not reached: it lost their events; they go with the next.
    const lost = state.waiting.filter((caller) => caller.ver > ver);
    if (lost.length > 0) {
      state.waiting = state.waiting.filter((caller) => caller.ver <= ver);
      outbox.queue.unshift(...lost);
      state.seen = 0;
    }
    state.seen = Math.max(state.seen, ver);
    for (const caller of callers) {
      // Another instance runs the key: a call whose own EVENT this was (we are in its context)
      // keeps it, for the push that will carry it here (a follow-up, a recovery, a fallback).
      if (!reply.run && caller.ver === 0) caller.scope ??= new AsyncResource('MergeWrites');
      caller.ver = ver;
      if (caller.settled) continue;
      if (engine.closed()) rejectCaller(caller, closedError(state.key));
      else state.waiting.push(caller);
    }
    if (reply.run) engine.pushes.start(state, { token, sent }, reply);
    else engine.pushes.scheduleRecover(state, engine.pushes.afterLease(reply.pttl));
    this.#dispatch(state);
  }

  nudge(state: KeyState, carried: Carried, store: boolean): void {
    const { outbox } = state;
    if (outbox.sending) {
      const next = { ...carried, store };
      if (outbox.nudge === undefined || (store && supersedes(outbox.nudge, next))) {
        outbox.nudge = next;
      }
    } else {
      void this.send(state, [], carried, store);
    }
  }

  /**
   * Callers whose events Redis lost: their events go to Redis again, so that a fleet push, one
   * at a time, covers them (never an in-process push while Redis answers).
   */
  resend(state: KeyState, lost: Caller[]): void {
    state.seen = 0;
    if (state.outbox.sending) state.outbox.queue.push(...lost);
    else void this.send(state, lost, newest(lost), false);
  }

  #timeout(state: KeyState, caller: Caller): void {
    if (caller.settled) return;
    // A queued caller stays queued: its arguments still have to reach Redis.
    const at = state.waiting.indexOf(caller);
    if (at >= 0) state.waiting.splice(at, 1);
    this.engine.counts.timeouts++;
    rejectCaller(caller, waitTimeoutError(state.key, this.engine.settings.waitTimeoutMs));
    this.engine.keys.tidy(state);
  }

  /** Sends the EVENT that waited for the one in flight: queued calls first, else a nudge. */
  #dispatch(state: KeyState): void {
    const { engine } = this;
    const { outbox } = state;
    const queued = outbox.queue.splice(0);
    if (queued.length > 0) {
      outbox.nudge = undefined; // a newer event re-queues the key anyway
      engine.counts.coalesced += queued.length - 1;
      // After close() too: their writes must reach Redis (the callers are rejected already).
      if (engine.usable() || engine.closed()) {
        void this.send(state, queued, newest(queued), true);
      } else {
        engine.outage.fallBack(state, queued);
      }
      return;
    }
    const nudge = outbox.nudge;
    outbox.nudge = undefined;
    if (nudge === undefined) {
      engine.keys.tidy(state);
    } else if (engine.usable()) {
      void this.send(state, [], nudge, nudge.store);
    } else {
      engine.local.owe(state.key, nudge, state.run);
      engine.keys.tidy(state);
    }
  }
}
