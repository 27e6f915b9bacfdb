import {
  type RedisCoordinator,
  type RedisScript,
  assertCoordinator,
  assertLog,
} from '../coordinator/coordinator.interface.js';
import { CircuitBreaker } from './circuit-breaker.js';

/**
 * Where an engine reports Redis trouble (once per outage), lost leases and failed pushes; the
 * module passes Nest's Logger (context `Singleflight`).
 * @publicApi
 */
export type CoordinationLog = (message: string, error?: unknown) => void;

/** The engines' log when none is given. */
export const defaultLog: CoordinationLog = (message, error) =>
  error === undefined ? console.warn(message) : console.warn(message, error);

/** What an engine tells its link at construction. */
export interface LinkOptions {
  readonly breakerMs: number;
  readonly log: CoordinationLog;
  /** The line logged at the first failure of an outage. */
  readonly down: string;
  /** The line logged when the connections are back after an outage that was logged. */
  readonly restored: string;
  /** Called after every failure (the breaker is open by then): stop waiting on Redis. */
  readonly onFailed: () => void;
  /** Called when the connections are ready again (the breaker is closed by then). */
  readonly onReady: () => void;
}

/**
 * An engine's connection to Redis, the part both protocols share: the circuit breaker, the log
 * line once per outage, the subscription to the engine's wake-up channel, and the listeners of
 * the coordinator's connection events.
 *
 * Invariants: every failure trips the breaker and calls `onFailed`; the first failure after a
 * reply logs `down`, and no other failure logs until Redis has answered again (`eval` answered,
 * or the connections came back, which also logs `restored`). `subscribed` is true only once
 * Redis acknowledged the subscription and the link is not closed.
 */
export class CoordinationLink {
  readonly #breaker: CircuitBreaker;
  #removers: Array<() => void> = [];
  #subscription: Promise<boolean> | undefined = undefined;
  #subscribed = false;
  /** Set by the first failure of an outage, cleared by the next reply or reconnection. */
  #degraded = false;
  #closed = false;
  #errors = 0;

  /** `engine`: the engine's class, for the message when its coordinator or log is not one. */
  constructor(
    engine: string,
    readonly coordinator: RedisCoordinator,
    private readonly options: LinkOptions,
  ) {
    assertCoordinator(engine, coordinator);
    assertLog(engine, options.log);
    this.#breaker = new CircuitBreaker(options.breakerMs);
  }

  /** Redis commands that failed or timed out, and lost connections. */
  get errors(): number {
    return this.#errors;
  }

  /** Redis is skipped right now (after a failure, for `breakerMs`). */
  get isOpen(): boolean {
    return this.#breaker.isOpen;
  }

  get subscribed(): boolean {
    return this.#subscribed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Subscribed, not closed, breaker closed: worth sending a command. */
  get usable(): boolean {
    return this.#subscribed && !this.#closed && !this.#breaker.isOpen;
  }

  /** Starts listening to the coordinator's connection events. */
  watch(): void {
    if (this.#closed) return;
    this.#removers.push(
      this.coordinator.onConnectionLost(() => this.failed(new Error('connection to Redis lost'))),
      this.coordinator.onReady(() => this.#ready()),
    );
  }

  /** A script call; a reply means Redis answers again, so the next outage is logged anew. */
  async eval(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const reply = await this.coordinator.eval(script, keys, args);
    this.#degraded = false;
    return reply;
  }

  /** A Redis error, timeout or lost connection: skip Redis for breakerMs, log once per outage. */
  failed(error: unknown): void {
    this.#errors++;
    this.#breaker.trip();
    if (!this.#degraded) {
      this.#degraded = true;
      this.options.log(this.options.down, error);
    }
    this.options.onFailed();
  }

  /**
   * Subscribes `onMessage` to `channel` once; resolves true once Redis acknowledged it, false
   * after a failure (reported through `failed`), and a later call then tries again.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<boolean> {
    return (this.#subscription ??= this.coordinator.subscribe(channel, onMessage).then(
      () => (this.#subscribed = !this.#closed),
      (error: unknown) => {
        this.#subscription = undefined;
        this.failed(error);
        return false;
      },
    ));
  }

  /** Stops listening, and unsubscribes `channel` if subscribed; never rejects. */
  async close(channel: string): Promise<void> {
    this.#closed = true;
    for (const remove of this.#removers.splice(0)) remove();
    if (!this.#subscribed) return;
    this.#subscribed = false;
    // Closing while Redis is down: nothing to undo there.
    await this.coordinator.unsubscribe(channel).catch(() => undefined);
  }

  #ready(): void {
    this.#breaker.reset();
    if (this.#degraded) {
      this.#degraded = false;
      this.options.log(this.options.restored);
    }
    this.options.onReady();
  }
}
