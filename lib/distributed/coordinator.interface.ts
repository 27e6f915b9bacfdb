/** A Lua script: adapters run it by SHA1 (EVALSHA) and load it on NOSCRIPT. */
export interface RedisScript {
  readonly name: string;
  readonly source: string;
}

/**
 * The few Redis operations the distributed flights need, behind one narrow interface so that
 * node-redis and ioredis (or anything else) can serve them. Every command must settle within the
 * adapter's own per-command timeout: a hung server must not hang a caller.
 * @publicApi
 */
export interface RedisCoordinator {
  /** Runs `script` with KEYS and ARGV; replies come back as Redis gives them (strings, numbers, arrays, null). */
  eval(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown>;
  get(key: string): Promise<string | null>;
  publish(channel: string, message: string): Promise<void>;
  /**
   * Subscribes on a dedicated connection (pub/sub takes a connection over) and resolves once
   * Redis has acknowledged it, so no message published afterwards can be missed.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Keys matching a SCAN pattern, in batches of about `count`. */
  scan(pattern: string, count?: number): AsyncIterable<string>;
  /** Called when either connection is lost; returns a function that removes the listener. */
  onConnectionLost(listener: () => void): () => void;
  /** Called when the connections are ready again after a loss; returns a remover. */
  onReady(listener: () => void): () => void;
  /** Closes what the adapter opened itself (the subscriber connection); the user's client stays open. */
  close(): Promise<void>;
}
