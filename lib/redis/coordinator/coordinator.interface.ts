import { SingleflightArgumentError } from '../../core/singleflight.errors.js';
import type { OptionRule } from '../../core/options.validator.js';
import * as messages from '../redis.messages.js';

/**
 * A Lua script: adapters run it by SHA1 (EVALSHA) and load it on NOSCRIPT.
 * @publicApi
 */
export interface RedisScript {
  /** Shown in errors (`EVALSHA <name>`); no effect on Redis. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
}

/**
 * The few Redis operations the distributed flights need, behind one narrow interface so that
 * node-redis and ioredis (or anything else) can serve them. Every command must settle within the
 * adapter's own per-command timeout: a hung server must not hang a caller. The adapters of this
 * library (`nodeRedisAdapter`, `ioredisAdapter`) reject with a SingleflightCoordinationError
 * whenever a command fails or times out.
 *
 * ```ts
 * const coordinator = nodeRedisAdapter(client, { opTimeoutMs: 500 });
 * const flights = new DistributedFlight(coordinator);
 * const writes = new DistributedWriteGroup(coordinator);
 * ```
 * @publicApi
 */
export interface RedisCoordinator {
  /**
   * Runs `script` with KEYS and ARGV; replies come back as Redis gives them (strings, numbers,
   * arrays, null), in RESP2 shapes whatever the connection's protocol: Lua `true` is 1 and
   * `false` is null, unless the script itself calls `redis.setresp(3)`.
   */
  eval(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown>;
  /** GET: the string at `key`, or null. */
  get(key: string): Promise<string | null>;
  /**
   * Subscribes on a dedicated connection (pub/sub takes a connection over) and resolves once
   * Redis has acknowledged it, so no message published afterwards can be missed. One listener
   * per channel: subscribing a channel again replaces its listener. A listener must not throw.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** Stops delivery to the channel's listener at once, then unsubscribes on Redis. */
  unsubscribe(channel: string): Promise<void>;
  /**
   * Keys matching a SCAN pattern, in batches of about `count` (default 100). As with SCAN, a key
   * may come twice, and keys added or removed meanwhile may or may not come.
   */
  scan(pattern: string, count?: number): AsyncIterable<string>;
  /**
   * Called when either connection is lost (once per outage, however many reconnect attempts
   * fail); returns a function that removes the listener.
   */
  onConnectionLost(listener: () => void): () => void;
  /**
   * Called when the connections are ready again after a loss, with the subscriptions restored;
   * returns a remover.
   */
  onReady(listener: () => void): () => void;
  /**
   * Closes what the adapter opened itself (the subscriber connection) and stops calling the
   * listeners; the user's client stays open, and eval/get/scan keep working on it.
   */
  close(): Promise<void>;
}

/** Throws a SingleflightArgumentError unless `value` looks like a RedisCoordinator. */
export function assertCoordinator(
  where: string,
  value: unknown,
): asserts value is RedisCoordinator {
  const methods = value as Record<string, unknown> | null | undefined;
  if (!COORDINATOR_METHODS.every((name) => typeof methods?.[name] === 'function')) {
    throw new SingleflightArgumentError(messages.NOT_A_COORDINATOR(where, value));
  }
}

const COORDINATOR_METHODS: ReadonlyArray<keyof RedisCoordinator> = [
  'eval',
  'get',
  'subscribe',
  'unsubscribe',
  'scan',
  'onConnectionLost',
  'onReady',
  'close',
];

/** The engines' `log` parameter: a function, or the default when left out. */
export function assertLog(where: string, log: unknown): void {
  if (log !== undefined && typeof log !== 'function') {
    throw new SingleflightArgumentError(messages.NOT_A_LOG(where, log));
  }
}

/** `text` with SCAN's glob characters escaped, so it matches only itself in a scan() pattern. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The option rule of an engine's `namespace`, the prefix of its Redis keys: no braces, which would
 * change the keys' hash tag (one Cluster slot per flight).
 */
export const NAMESPACE: OptionRule = [
  'a non-empty string without { or }',
  (v) => typeof v === 'string' && v.length > 0 && !/[{}]/.test(v),
];

/** The option rule of an engine's `secret`, the key of the HMAC over what it shares. */
export const SECRET: OptionRule = [
  'a string of at least 16 characters (e.g. 32 random bytes in hex)',
  (v) => typeof v === 'string' && v.length >= 16,
];

/**
 * The option rule of a TTL an engine sets on its Redis keys (PX): an integer the engine can write
 * exactly (at most 2^53 - 1, which Redis, keeping expiries as 64-bit ms, takes); a larger number
 * is sent as `1e+19` and Redis refuses every command that carries it.
 */
export const REDIS_TTL_MS: OptionRule = [
  `an integer number of milliseconds from 1 to ${Number.MAX_SAFE_INTEGER} (2^53 - 1)`,
  (v) => Number.isSafeInteger(v) && (v as number) >= 1,
];
