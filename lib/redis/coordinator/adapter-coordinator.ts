import {
  SingleflightArgumentError,
  SingleflightOptionsError,
} from '../../core/singleflight.errors.js';
import { POSITIVE_DURATION, forTimer, validateOptions } from '../../core/options.validator.js';
import * as messages from '../redis.messages.js';
import { bounded, DEFAULT_OP_TIMEOUT_MS } from './bounded-command.js';
import { SingleflightCoordinationError } from '../shared/coordination.error.js';
import { callIsolated, ConnectionHealth } from '../shared/connection-health.js';
import { escapeGlob, type RedisCoordinator, type RedisScript } from './coordinator.interface.js';
import { isNoScript, scriptSha } from './script-sha.js';

export type ConnectionName = 'client' | 'subscriber';

/** What a driver reports about its connections and the messages they receive. */
export interface DriverEvents {
  down(connection: ConnectionName): void;
  up(connection: ConnectionName): void;
  message(channel: string, message: string): void;
  /** The channels the adapter is subscribed to, for a driver that must restore them itself. */
  channels(): string[];
}

/** The client-specific half of an adapter: how to talk to one Redis client library. */
export interface CoordinatorDriver {
  /** A prefix the client adds to every key (ioredis `keyPrefix`), or `''`. */
  readonly keyPrefix: string;
  /** Sends one command on the user's client; `signal` aborts it while it is still unsent. */
  send(args: string[], signal: AbortSignal): Promise<unknown>;
  /** Subscribes on the subscriber connection (opened on first use) and resolves on Redis's ack. */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /**
   * Stops watching the connections; closes the subscriber if the driver opened it, else
   * unsubscribes `channels` from the one it was given.
   */
  close(channels: string[]): Promise<void>;
}

/**
 * The client-independent half of the adapters: per-command timeout, EVALSHA with EVAL fallback,
 * SCAN paging, one listener per channel, and connection lost/ready bookkeeping.
 */
export class AdapterCoordinator implements RedisCoordinator {
  readonly #health = new ConnectionHealth();
  readonly #listeners = new Map<string, (message: string) => void>();
  /** Channels whose UNSUBSCRIBE failed: retried when the subscriber is back, so none leaks. */
  readonly #stale = new Set<string>();
  readonly #driver: CoordinatorDriver;
  #closed = false;

  constructor(
    createDriver: (events: DriverEvents) => CoordinatorDriver,
    private readonly opTimeoutMs: number,
  ) {
    this.#driver = createDriver({
      down: (connection) => this.#health.down(connection),
      up: (connection) => this.#up(connection),
      message: (channel, message) => {
        const listener = this.#listeners.get(channel);
        if (listener !== undefined) callIsolated(listener, message);
      },
      channels: () => [...this.#listeners.keys()],
    });
  }

  eval(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const sha = scriptSha(script);
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    return this.#run(`EVALSHA ${script.name}`, async (signal) => {
      try {
        return await this.#driver.send(['EVALSHA', sha, ...tail], signal);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        // EVAL runs the script and caches it again, so the next EVALSHA finds it.
        return this.#driver.send(['EVAL', script.source, ...tail], signal);
      }
    });
  }

  get(key: string): Promise<string | null> {
    return this.#run('GET', (signal) => this.#driver.send(['GET', key], signal)) as Promise<
      string | null
    >;
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    if (this.#closed) throw new SingleflightCoordinationError('SUBSCRIBE', 'closed');
    this.#listeners.set(channel, onMessage);
    this.#stale.delete(channel);
    try {
      await this.#run('SUBSCRIBE', () => this.#driver.subscribe(channel));
    } catch (error) {
      // The caller goes on without the subscription; if Redis still completes it, nothing is
      // delivered, and the channel is dropped when the subscriber next reconnects.
      if (this.#listeners.get(channel) === onMessage) {
        this.#listeners.delete(channel);
        this.#stale.add(channel);
      }
      throw error;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    // Delivery stops now, whatever Redis answers.
    this.#listeners.delete(channel);
    if (this.#closed) return;
    try {
      await this.#run('UNSUBSCRIBE', () => this.#driver.unsubscribe(channel));
    } catch (error) {
      if (!this.#listeners.has(channel)) this.#stale.add(channel);
      throw error;
    }
  }

  async *scan(pattern: string, count = 100): AsyncIterable<string> {
    // ioredis adds its keyPrefix to keys but not to SCAN patterns or SCAN replies: do both here,
    // so scanned keys can go straight back into eval() or get().
    const prefix = this.#driver.keyPrefix;
    const match = escapeGlob(prefix) + pattern;
    let cursor = '0';
    do {
      const [next, keys] = (await this.#run('SCAN', (signal) =>
        this.#driver.send(['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)], signal),
      )) as [string, string[]];
      cursor = next;
      for (const key of keys) yield prefix === '' ? key : key.slice(prefix.length);
    } while (cursor !== '0');
  }

  onConnectionLost(listener: () => void): () => void {
    return this.#health.onLost(listener);
  }

  onReady(listener: () => void): () => void {
    return this.#health.onReady(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#health.clear();
    const channels = [...new Set([...this.#listeners.keys(), ...this.#stale])];
    this.#listeners.clear();
    this.#stale.clear();
    await this.#driver.close(channels);
  }

  #run<T>(operation: string, command: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return bounded(operation, this.opTimeoutMs, command);
  }

  #up(connection: ConnectionName): void {
    if (connection === 'subscriber' && this.#stale.size > 0) {
      const channels = [...this.#stale];
      this.#stale.clear();
      for (const channel of channels) {
        this.#run('UNSUBSCRIBE', () => this.#driver.unsubscribe(channel)).catch(() => {
          if (!this.#listeners.has(channel)) this.#stale.add(channel);
        });
      }
    }
    this.#health.up(connection);
  }
}

/** A Redis library an adapter is made for: its factory's name, and how to tell its clients. */
export interface AdapterLibrary<C> {
  where: string;
  name: string;
  /** How an option's error names a client of it, e.g. `an ioredis client`. */
  aClient: string;
  isClient: (value: unknown) => value is C;
}

/**
 * What `nodeRedisAdapter()` and `ioredisAdapter()` both do: refuse what is not a client of the
 * library, bad options and a subscriber that is the client itself, then make the coordinator over
 * the library's driver.
 */
export function makeAdapter<C>(
  library: AdapterLibrary<C>,
  client: C,
  options: { subscriber?: C; opTimeoutMs?: number },
  driver: (events: DriverEvents, opTimeoutMs: number) => CoordinatorDriver,
): RedisCoordinator {
  const { where } = library;
  if (!library.isClient(client)) {
    throw new SingleflightArgumentError(messages.NOT_A_REDIS_CLIENT(where, library.name, client));
  }
  validateOptions(where, options, {
    subscriber: [library.aClient, library.isClient],
    opTimeoutMs: forTimer(POSITIVE_DURATION),
  });
  if (options.subscriber !== undefined && (options.subscriber as unknown) === client) {
    throw new SingleflightOptionsError(messages.SUBSCRIBER_IS_CLIENT(where));
  }
  const opTimeoutMs = options.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
  return new AdapterCoordinator((events) => driver(events, opTimeoutMs), opTimeoutMs);
}
