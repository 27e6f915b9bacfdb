import { assertFn, assertKey } from '../../core/options.validator.js';
import { SingleflightReentryError } from '../../core/singleflight.errors.js';
import * as coreMessages from '../../core/singleflight.messages.js';
import * as messages from '../redis.messages.js';
import type { RedisCoordinator, RedisScript } from '../coordinator/coordinator.interface.js';
import { CoordinationLink, type CoordinationLog, defaultLog } from '../shared/coordination-link.js';
import type {
  DistributedWriteCallOptions,
  DistributedWriteGroupStats,
  DistributedWriteOptions,
  WriteRun,
} from './distributed-write-group.interfaces.js';
import { type WriteSettings, checkCallOptions, writeSettings } from './write.options.js';
import { WriteArgs } from './write-args.js';
import type { AnyRun } from './write-callers.js';
import type { WriteCounts, WriteEngine } from './write-engine.js';
import { WriteEvents } from './write-events.js';
import { InProcessWrites } from './write-fallback.js';
import { WriteHandlers } from './write-handlers.js';
import { KeyTable, type VersionOf } from './write-key-state.js';
import { WriteOutage } from './write-outage.js';
import { WritePushes } from './write-pushes.js';
import { WriteSweep } from './write-sweep.js';
import { versionOf } from './write-version.js';

/**
 * MergeWrites across several instances: per key at most one push in flight fleet-wide, calls
 * during a push cause exactly one follow-up push with the newest call's arguments, and a crashed
 * runner's work is taken over by another instance. Redis keeps, per key, `ver` (events seen),
 * `done` (the highest `ver` a successful push covered), the last fence and the newest arguments;
 * a runner holds a lease renewed every leaseMs/3. The protocol, its keys, scripts and races are
 * described in docs/redis-writes.md.
 *
 * A call resolves once a push that started after it finished anywhere in the fleet: with that
 * push's value if it ran on this instance, else `undefined`. If that push threw on this instance,
 * the call rejects with its error and the push is retried through Redis. A call never waits
 * longer than `waitTimeoutMs`.
 *
 * Arguments travel through Redis in the codec of the cache and the flights (Dates, Maps and
 * instances of the classes in `codecs` keep their type; sealed with `secret`), and the push always
 * gets them decoded, on every instance alike. A push that this instance never called itself (taking over
 * from a crashed instance, the sweep) needs a push registered with `handle()`.
 *
 * When Redis is down or hung, calls run through an in-process WriteGroup instead (callers do not
 * fail): each instance then coalesces only its own calls, and instances may push one key at the
 * same time and out of order. Once Redis answers again, each instance sends one event for every
 * key it pushed in-process, so the key's last push is a fleet push after them, with the newest
 * arguments (by `version`) and a higher fence, even over work left pending in a hung Redis. The
 * durable ledger (`ledger`) covers what no live instance remembers (a crash).
 *
 * ```ts
 * const writes = new DistributedWriteGroup(nodeRedisAdapter(client), { leaseMs: 5_000 });
 * await writes.init();
 * await writes.do(`user:${id}`, ([id, state], { fence }) => api.put(id, state, fence), {
 *   args: [id, state] as [string, State],
 * });
 * ```
 * @publicApi
 */
export class DistributedWriteGroup {
  readonly #settings: WriteSettings;
  readonly #args: WriteArgs;
  readonly #link: CoordinationLink;
  readonly #keys: KeyTable;
  readonly #handlers = new WriteHandlers();
  readonly #counts: WriteCounts = {
    calls: 0,
    events: 0,
    coalesced: 0,
    runs: 0,
    followUps: 0,
    recovered: 0,
    failures: 0,
    leaseLost: 0,
    timeouts: 0,
    localFallbacks: 0,
    rejectedArgs: 0,
    sweeps: 0,
  };
  readonly #channel: string;
  readonly #events: WriteEvents;
  readonly #pushes: WritePushes;
  readonly #outage: WriteOutage;
  readonly #sweep: WriteSweep;
  #sweepTimer: NodeJS.Timeout | undefined = undefined;

  /**
   * `coordinator`: `nodeRedisAdapter(client)`, `ioredisAdapter(client)` or your own (it stays
   * yours to close). `log` (Redis outages, lost leases, failed pushes) defaults to `console.warn`.
   * Call `init()` before the first `do`: calls made before it run in-process.
   */
  constructor(
    coordinator: RedisCoordinator,
    options: DistributedWriteOptions = {},
    log: CoordinationLog = defaultLog,
  ) {
    const settings = (this.#settings = writeSettings(options));
    const { namespace, breakerMs } = settings;
    this.#channel = `${namespace}:wdone`;
    this.#keys = new KeyTable(namespace);
    this.#link = new CoordinationLink('DistributedWriteGroup', coordinator, {
      breakerMs,
      log,
      down: messages.WRITE_COORDINATION_DOWN(namespace, breakerMs),
      restored: messages.WRITE_COORDINATION_RESTORED(namespace),
      onFailed: () => this.#outage.onFailed(),
      onReady: () => void this.#outage.heal(),
    });
    const args = (this.#args = new WriteArgs(settings.codec, settings.secret));
    const local = new InProcessWrites(settings.detectAsyncReentry, args, settings.ledger, log);
    // The parts are made right below; none of them calls another while it is being made.
    const engine: WriteEngine = {
      settings,
      args,
      link: this.#link,
      log,
      counts: this.#counts,
      keys: this.#keys,
      handlers: this.#handlers,
      local,
      channel: this.#channel,
      get events() {
        return events;
      },
      get pushes() {
        return pushes;
      },
      get outage() {
        return outage;
      },
      closed: () => this.#link.closed,
      usable: () => this.#link.usable,
      eval: (script, keys, args) => this.#eval(local, script, keys, args),
    };
    const events = (this.#events = new WriteEvents(engine));
    const pushes = (this.#pushes = new WritePushes(engine));
    const outage = (this.#outage = new WriteOutage(engine, () => this.#subscribe()));
    this.#sweep = new WriteSweep(engine);
  }

  /**
   * Subscribes to the wake-up channel (awaited, so no wake-up can be missed) and starts the sweep.
   * Calls made before it resolves run in-process. Redis being down is not an error here: calls
   * run in-process until it is back.
   */
  async init(): Promise<void> {
    this.#link.watch();
    await this.#subscribe();
    const { sweepEveryMs } = this.#settings;
    if (sweepEveryMs > 0 && !this.#link.closed) {
      this.#sweepTimer = setInterval(() => void this.sweep(), sweepEveryMs);
      this.#sweepTimer.unref();
    }
  }

  /**
   * Records an event for `key` with `options.args` (default `[]`) and settles once a
   * push covering it has finished somewhere in the fleet. The instance that runs calls
   * `run(newestArgs, context)`. A call of `key` made by its own push rejects with a
   * SingleflightReentryError (it would wait for the follow-up push, which waits for this one):
   * before the push's first `await` always, after it with `detectAsyncReentry`. With
   * `options.version`, the arguments with the highest version are pushed, whatever order the
   * calls reach Redis in.
   */
  do<T, A extends unknown[] = []>(
    key: string,
    run: WriteRun<A, T>,
    options?: DistributedWriteCallOptions<A>,
  ): Promise<T | undefined> {
    let json: string;
    let version: number | undefined;
    const args = options?.args ?? [];
    const versionFn = options?.version as VersionOf | undefined;
    try {
      assertKey(key);
      assertFn(key, run);
      if (options !== undefined) checkCallOptions(options);
      json = this.#args.encode(key, args);
      version = versionOf(key, versionFn, args);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#counts.calls++;
    if (this.#pushes.isReentry(key)) {
      return Promise.reject(new SingleflightReentryError(key, coreMessages.WRITE_REENTRY(key)));
    }
    const push = run as AnyRun;
    if (!this.#link.usable) {
      return this.#outage.runLocal(key, { json, version }, push) as Promise<T | undefined>;
    }
    const state = this.#keys.state(key);
    state.run = push;
    state.version = versionFn;
    return this.#events.call(state, { json, version }, push) as Promise<T | undefined>;
  }

  /**
   * Registers the push for keys this instance never called itself, so that it can take them over
   * after another instance crashed, or push what the sweep finds: `key === prefix` or
   * `key.startsWith(prefix + ':')` (the longest prefix wins). Returns a function that removes it.
   */
  handle(prefix: string, run: WriteRun<any[], unknown>): () => void {
    assertKey(prefix);
    assertFn(prefix, run);
    return this.#handlers.add(prefix, run);
  }

  /**
   * Finds keys with pending writes (`ver > done`) and no runner, and pushes them here (RECOVER);
   * then queues the ledger's pending keys through the protocol. Runs every `sweepEveryMs`.
   */
  sweep(): Promise<void> {
    return this.#sweep.run();
  }

  /** Counters of this instance, the callers waiting now and the keys it tracks. */
  stats(): DistributedWriteGroupStats {
    return {
      ...this.#counts,
      coordinationErrors: this.#link.errors,
      breakerOpen: this.#link.isOpen,
      waiting: this.#keys.waiting(),
      size: this.#keys.size,
    };
  }

  /**
   * Stops the timers and the sweep, rejects the callers still waiting (their writes stay recorded
   * in Redis for the other instances), lets pushes in flight finish without a follow-up (at most
   * leaseMs), and unsubscribes. The coordinator stays open: it belongs to the caller.
   */
  async close(): Promise<void> {
    if (this.#link.closed) return;
    const unsubscribed = this.#link.close(this.#channel);
    clearInterval(this.#sweepTimer);
    this.#outage.close();
    const running = this.#keys.closeAll();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running),
      new Promise((resolve) => (timer = setTimeout(resolve, this.#settings.leaseMs))),
    ]);
    clearTimeout(timer);
    await unsubscribed;
  }

  #subscribe(): Promise<boolean> {
    return this.#link.subscribe(this.#channel, (message) => this.#keys.announced(message));
  }

  /** Every script call; once Redis answers again, the events owed from an outage are sent. */
  async #eval(
    local: InProcessWrites,
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const reply = await this.#link.eval(script, keys, args);
    if (local.owing && this.#link.usable) this.#outage.repay();
    return reply;
  }
}
