import * as messages from './cache.messages.js';
import type { CacheErrorLogger, CachePolicy } from './flight-cache.interfaces.js';

const defaultShouldCache = (value: unknown) => value !== undefined;

/**
 * What a CachePolicy says of one value: whether to keep it, and for how long. A policy whose ttl
 * or shouldCache misbehaves is reported once, not once per call: a decorated method has one.
 */
export class PolicyCheck {
  readonly #warned = new WeakSet<CachePolicy<never>>();
  readonly #refusals = new WeakSet<CachePolicy<never>>();

  constructor(private readonly logger: CacheErrorLogger | undefined) {}

  /**
   * How long to keep `value`, or undefined: not at all. 0 or less means not cached, as a static
   * `ttl: 0` does; anything but a finite number is reported and not cached, as is a ttl or
   * shouldCache that throws. A ttl of 2^31 ms or more is kept: the store holds an expiry, and
   * the mirror's timer is chained.
   */
  ttlOf<T>(key: string, value: T, policy: CachePolicy<T>): number | undefined {
    let ttl: unknown;
    try {
      if (!(policy.shouldCache ?? defaultShouldCache)(value)) return undefined;
      ttl = typeof policy.ttl === 'function' ? policy.ttl(value) : policy.ttl;
    } catch (error) {
      this.#warnOnce(policy, messages.POLICY_THREW(key), error);
      return undefined;
    }
    if (typeof ttl === 'number' && Number.isFinite(ttl)) return ttl > 0 ? ttl : undefined;
    if (ttl !== -Infinity) this.#warnOnce(policy, messages.BAD_TTL(key, ttl), undefined);
    return undefined;
  }

  /** A value of `policy` the codec could not encode: reported once per policy. */
  refused(policy: CachePolicy<never>, message: string): void {
    if (this.#refusals.has(policy)) return;
    this.#refusals.add(policy);
    this.logger?.warn(message);
  }

  #warnOnce(policy: CachePolicy<never>, message: string, error: unknown): void {
    if (this.#warned.has(policy)) return;
    this.#warned.add(policy);
    this.logger?.warn(message, error);
  }
}
