import type { CoordinationLink } from '../shared/coordination-link.js';
import type { DecodedResult } from '../shared/result-codec.js';
import type { FlightSettings } from './flight.options.js';
import type { FlightKeys } from './flight-keys.js';
import type { Waiters } from './flight-waiters.js';

/** How a follow ends besides a result: ACQUIRE again, or run the work on this instance. */
export const RETRY = Symbol('retry');
export const LOCAL = Symbol('local');

export type FollowOutcome = DecodedResult | typeof RETRY | typeof LOCAL;

/**
 * An instance waiting for another's flight (docs/redis-flight.md, "Following"). It registers for
 * the wake-up message before it reads `res`, so a result published in between is either read or
 * announced; it reads `res` again every leaseMs/3, so a lost message or a hung Redis costs at most
 * that; and it gives up on the leader once its lease (plus slack) is over, or at the deadline.
 */
export class FlightFollower {
  constructor(
    private readonly link: CoordinationLink,
    private readonly settings: FlightSettings,
    private readonly waiters: Waiters,
    /** The result in an envelope read from `res` (a refused one reads as `skip`). */
    private readonly decode: (key: string, res: string, text: string) => DecodedResult,
  ) {}

  /**
   * Waits for the leader `holder` to publish, its lease to run out, the connection to drop or the
   * overall deadline; reads the result after each wake. RETRY: ACQUIRE again (the leader may have
   * crashed, or is renewing a long flight); LOCAL: run the work here.
   */
  async follow(
    key: string,
    { hashed, res }: FlightKeys,
    holder: string,
    pttl: number,
    deadline: number,
  ): Promise<FollowOutcome> {
    const { leaseMs, wakeSlackMs } = this.settings;
    const topic = `${hashed}\n${holder}`;
    // Registered BEFORE reading res: a publish after this is delivered to it, and a publish before
    // it had already written res (COMPLETE writes, releases and publishes in one step).
    const waiter = this.waiters.add(topic);
    try {
      let result = await this.#readResult(key, res, holder);
      if (result !== undefined) return result;
      const lease = pttl >= 0 ? pttl : leaseMs;
      const until = Math.min(
        performance.now() + lease + wakeSlackMs + Math.random() * wakeSlackMs,
        deadline,
      );
      // While waiting, res is polled every leaseMs/3: a hung Redis (no error, no lost connection)
      // then shows within that, and a lost wake-up costs no more than that either.
      const probeMs = Math.max(1, Math.floor(leaseMs / 3));
      for (;;) {
        const left = until - performance.now();
        const why = await waiter.sleep(Math.min(left, probeMs));
        if (why === 'lost') return LOCAL;
        result = await this.#readResult(key, res, holder);
        if (result !== undefined) return result;
        if (why === 'message' || left <= probeMs) return RETRY;
      }
    } catch (error) {
      this.link.failed(error);
      return LOCAL;
    } finally {
      this.waiters.remove(topic, waiter);
    }
  }

  /** The envelope of the flight of `holder`, if it is in res (not an older flight's). */
  async #readResult(key: string, res: string, holder: string): Promise<DecodedResult | undefined> {
    const text = await this.link.coordinator.get(res);
    if (text === null) return undefined;
    const result = this.decode(key, res, text);
    // An envelope that cannot be read could be anyone's: running locally is the safe answer.
    return result.token === holder || result.token === undefined ? result : undefined;
  }
}
