import { createHmac, timingSafeEqual } from 'node:crypto';
import { fits } from './result-codec.js';

/** Why a result envelope read from Redis was refused. */
export type Refusal = 'oversized' | 'forged';

/** Hex characters of an HMAC-SHA256, the prefix of a sealed envelope (then a `.`). */
const MAC_CHARS = 64;

/**
 * What this instance trusts of the envelopes it reads from Redis (flight results, MergeWrites
 * arguments; README, "What Redis is trusted with"). Any envelope larger than the limit, if there
 * is one, is refused before anything parses it. With a secret, every envelope is stored as
 * `hmac.envelope`, the HMAC-SHA256 of the Redis key it is stored under and the envelope: one
 * forged by a Redis writer without the secret, altered, or copied from another key is refused.
 * Without a secret, envelopes are stored and read as they are.
 */
export class EnvelopeSeal {
  readonly #secret: string | undefined;
  readonly #maxChars: number;

  /** `maxBytes`: the largest envelope this engine writes (`maxResultBytes`); none: no limit. */
  constructor(secret: string | undefined, maxBytes = Number.POSITIVE_INFINITY) {
    this.#secret = secret;
    this.#maxChars = maxBytes + (secret === undefined ? 0 : MAC_CHARS + 1);
  }

  /** What to store under the Redis key `where` for `envelope`. */
  seal(where: string, envelope: string): string {
    return this.#secret === undefined ? envelope : `${this.#mac(where, envelope)}.${envelope}`;
  }

  /** The envelope inside `text`, read from the Redis key `where`, or why it is refused. */
  open(where: string, text: string): string | Refusal {
    if (this.#maxChars !== Number.POSITIVE_INFINITY && !fits(text, this.#maxChars)) {
      return 'oversized';
    }
    if (this.#secret === undefined) return text;
    if (text.charAt(MAC_CHARS) !== '.') return 'forged';
    const envelope = text.slice(MAC_CHARS + 1);
    const given = Buffer.from(text.slice(0, MAC_CHARS));
    const expected = Buffer.from(this.#mac(where, envelope));
    // Equal lengths only when `given` is 64 single-byte characters, as a real MAC is.
    return given.length === expected.length && timingSafeEqual(given, expected)
      ? envelope
      : 'forged';
  }

  #mac(where: string, envelope: string): string {
    // The key's length first, so no key and envelope pair can read as another.
    return createHmac('sha256', this.#secret!)
      .update(`${where.length}:${where}`)
      .update(envelope)
      .digest('hex');
  }
}
