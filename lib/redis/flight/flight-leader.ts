import { toError } from '../../core/singleflight.errors.js';
import * as messages from '../redis.messages.js';
import type { CoordinationLink, CoordinationLog } from '../shared/coordination-link.js';
import type { EnvelopeSeal } from '../shared/envelope-seal.js';
import { encodeError, encodeValue } from '../shared/result-codec.js';
import { replyFlag } from '../shared/script-reply.js';
import type { FlightSettings } from './flight.options.js';
import { COMPLETE } from './flight.scripts.js';
import type { FlightKeys } from './flight-keys.js';
import type { FlightLeases, Lease } from './flight-leases.js';

/**
 * What a `recheck` answers when the cache has nothing for the key: the work runs then.
 *
 * ```ts
 * await flight.run(key, work, async () => (await cache.get(key)) ?? MISS_SENTINEL);
 * ```
 * @publicApi
 */
export const MISS_SENTINEL: unique symbol = Symbol('singleflight.miss');

export type Recheck<T> = () => Promise<T | typeof MISS_SENTINEL>;

/** What the leader side counts into the flight's stats. */
export interface LeaderCounts {
  leader: number;
  recheckHits: number;
  unshareable: number;
}

/**
 * The instance that won a key's lease (docs/redis-flight.md, "Leading"): it renews the lease
 * while the work runs, then COMPLETE stores the result envelope, releases the lease and publishes
 * the wake-up message in one step. Its own callers get the value in the shared shape, or the
 * work's own error.
 */
export class FlightLeader {
  /** Set once a result the codec cannot encode was logged. */
  #unencodableLogged = false;

  constructor(
    private readonly link: CoordinationLink,
    private readonly settings: FlightSettings,
    private readonly seal: EnvelopeSeal,
    private readonly leases: FlightLeases,
    private readonly counts: LeaderCounts,
    private readonly log: CoordinationLog,
    /** The wake-up channel of the namespace. */
    private readonly channel: string,
  ) {}

  async lead<T>(
    key: string,
    keys: FlightKeys,
    token: string,
    fn: () => Promise<T>,
    recheck: Recheck<T> | undefined,
  ): Promise<T> {
    this.counts.leader++;
    const lease = this.leases.renew(key, keys.lock, token);
    let value: T | typeof MISS_SENTINEL = MISS_SENTINEL;
    let failed = false;
    let error: unknown;
    try {
      // A caller that missed the cache just before the previous leader stored its value would
      // otherwise run the work again.
      if (recheck !== undefined) value = await this.#recheck(key, recheck);
      if (value !== MISS_SENTINEL) this.counts.recheckHits++;
      else value = await fn();
    } catch (thrown) {
      failed = true;
      error = thrown;
    } finally {
      this.leases.stop(lease);
    }
    const { maxResultBytes } = this.settings;
    if (failed) {
      // Encoded as this instance's Group will report it (a thrown non-Error gets wrapped).
      await this.#complete(keys, token, lease, () =>
        encodeError(token, toError(key, error), maxResultBytes),
      );
      throw error;
    }
    const encoded = encodeValue(token, value, maxResultBytes, this.settings.codec);
    if (!encoded.shared) this.counts.unshareable++;
    if (encoded.unencodable !== undefined && !this.#unencodableLogged) {
      this.#unencodableLogged = true;
      this.log(messages.RESULT_NOT_ENCODABLE(key, encoded.unencodable));
    }
    await this.#complete(keys, token, lease, () => encoded.envelope);
    return encoded.value as T;
  }

  async #recheck<T>(key: string, recheck: Recheck<T>): Promise<T | typeof MISS_SENTINEL> {
    try {
      return await recheck();
    } catch (error) {
      // The cache is an optimization: its failure must not fail the flight.
      this.log(messages.RECHECK_FAILED(key), error);
      return MISS_SENTINEL;
    }
  }

  /** Publishes the envelope and releases the lease in one step; a failure is only logged. */
  async #complete(
    { hashed, lock, res }: FlightKeys,
    token: string,
    lease: Lease,
    envelope: () => string,
  ): Promise<void> {
    // Redis is considered down: followers elsewhere fall back on their own (lost connection,
    // bounded wait), and this instance's callers should not pay a timeout for it.
    if (this.link.closed || this.link.isOpen) return;
    try {
      const holder = await this.link.coordinator.eval(
        COMPLETE,
        [lock, res],
        [
          token,
          this.seal.seal(res, envelope()),
          this.settings.resultTtlMs,
          this.channel,
          `${hashed}\n${token}`,
        ],
      );
      if (!replyFlag(holder)) this.leases.lost(lease);
    } catch (error) {
      this.link.failed(error);
    }
  }
}
