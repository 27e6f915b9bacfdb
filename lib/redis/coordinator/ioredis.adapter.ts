import { isPlainObject } from '../../core/options.validator.js';
import {
  type AdapterLibrary,
  makeAdapter,
  type ConnectionName,
  type DriverEvents,
} from './adapter-coordinator.js';
import { bounded } from './bounded-command.js';
import { ClientDriver } from './client-driver.js';
import type { RedisCoordinator } from './coordinator.interface.js';

/**
 * The part of an ioredis client the adapter uses (`new Redis()` of ioredis 5.x/6.x; not a
 * Cluster). Typed by shape, so this library never loads ioredis.
 * @publicApi
 */
export interface IoredisClient {
  /** The connection state (`'ready'`, `'connecting'`, `'end'`...). */
  readonly status: string;
  /** The client's options; a `keyPrefix` is honoured. */
  readonly options: { readonly keyPrefix?: string };
  /** Every command of the adapter goes through it. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** Used on the subscriber connection only. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** Used on the subscriber connection only. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** A new client with the same options: the default subscriber. */
  duplicate(override?: { lazyConnect?: boolean }): IoredisClient;
  /** Connects (the adapter calls it only on the subscriber it made). */
  connect(): Promise<void>;
  /** Closes (the adapter calls it only on the subscriber it made). */
  disconnect(): void;
  /**
   * The adapter listens to `'ready'`, `'close'` and `'end'`, plus `'message'` on the subscriber
   * (and `'error'` on the subscriber it made).
   */
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes the adapter's listeners when it closes. */
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * Options of `ioredisAdapter(client, options)`.
 * @publicApi
 */
export interface IoredisAdapterOptions {
  /**
   * A client used only for pub/sub (subscriber mode takes a connection over). The adapter never
   * closes it.
   * @default `client.duplicate()`, connected on the first `subscribe()` and closed by `close()`
   */
  subscriber?: IoredisClient;
  /**
   * Longest wait, in ms, for any one command, by the adapter's own timer.
   * @default 250
   */
  opTimeoutMs?: number;
}

const LIBRARY: AdapterLibrary<IoredisClient> = {
  where: 'ioredisAdapter()',
  name: 'ioredis',
  aClient: 'an ioredis client',
  isClient: isIoredisClient,
};

/**
 * A {@link RedisCoordinator} over an ioredis client, for the distributed flights.
 *
 * Create the client with `enableOfflineQueue: false`, so commands fail at once while Redis is
 * unreachable; with the default offline queue they wait (up to `opTimeoutMs`) instead, and stay
 * queued after the adapter gave up on them (ioredis cannot take a queued command back). A
 * `keyPrefix` is honoured: keys, SCAN patterns and scanned keys all behave as unprefixed.
 * Connection loss is the client's `'close'` or `'end'` event; readiness is `'ready'`, reported
 * for the subscriber only once its channels are subscribed again.
 *
 * ```ts
 * const client = new Redis(url, { enableOfflineQueue: false });
 * const coordinator = ioredisAdapter(client);
 * SingleflightModule.forRoot({ redis: { coordinator } }); // or new DistributedFlight(coordinator)
 * ```
 * @publicApi
 */
export function ioredisAdapter(
  client: IoredisClient,
  options: IoredisAdapterOptions = {},
): RedisCoordinator {
  return makeAdapter(
    LIBRARY,
    client,
    options,
    (events, opTimeoutMs) => new IoredisDriver(client, options.subscriber, events, opTimeoutMs),
  );
}

/** Whether `value` looks like an ioredis client (the adapter checks the same). */
export function isIoredisClient(value: unknown): value is IoredisClient {
  return (
    isPlainObject(value) &&
    typeof value.status === 'string' &&
    typeof value.call === 'function' &&
    typeof value.duplicate === 'function'
  );
}

const noop = () => {};
const DOWN_EVENTS = ['close', 'end'];
// Not yet asked to connect, or closed for good: neither is waiting for a 'ready'.
const IDLE = new Set(['wait', 'end']);

class IoredisDriver extends ClientDriver<IoredisClient> {
  readonly keyPrefix: string;
  #subscriberLost = false;
  readonly #onMessage: (channel: string, message: string) => void;

  constructor(
    client: IoredisClient,
    subscriber: IoredisClient | undefined,
    events: DriverEvents,
    opTimeoutMs: number,
  ) {
    super(client, subscriber, events, opTimeoutMs);
    this.keyPrefix = client.options.keyPrefix ?? '';
    this.#onMessage = (channel, message) => events.message(channel, message);
    this.#watch(client, 'client');
    if (subscriber !== undefined) this.watchSubscriber(subscriber);
  }

  send(args: string[]): Promise<unknown> {
    const [command, ...rest] = args;
    return this.client.call(command!, ...rest);
  }

  async subscribe(channel: string): Promise<void> {
    const subscriber = await this.connectedSubscriber();
    await subscriber.subscribe(channel);
  }

  protected unsubscribeFrom(subscriber: IoredisClient, channel: string): Promise<unknown> {
    return subscriber.unsubscribe(channel);
  }

  protected async closeOwn(subscriber: IoredisClient): Promise<void> {
    if (subscriber.status === 'end') return;
    const ended = new Promise<void>((resolve) => subscriber.on('end', () => resolve()));
    subscriber.disconnect();
    // Wait for the socket to go, but not forever: while ioredis is between reconnect attempts,
    // disconnect() stops it without ever emitting 'end'.
    await bounded('QUIT', this.opTimeoutMs, () => ended).catch(noop);
  }

  protected makeSubscriber(): IoredisClient {
    // lazyConnect: connect() is then the one way in, and its promise says when it is ready.
    const subscriber = this.client.duplicate({ lazyConnect: true });
    // Kept after close(): ioredis prints errors that have no listener.
    subscriber.on('error', noop);
    return subscriber;
  }

  protected watchSubscriber(subscriber: IoredisClient): void {
    this.listen(subscriber, ['message'], this.#onMessage);
    this.#watch(subscriber, 'subscriber', () => this.#subscriberReady(subscriber));
  }

  /** connect() rejects on the first failed attempt; ioredis then keeps retrying by itself. */
  protected isIdle(subscriber: IoredisClient): boolean {
    return IDLE.has(subscriber.status);
  }

  #watch(connection: IoredisClient, name: ConnectionName, up = () => this.events.up(name)): void {
    const down = () => {
      if (name === 'subscriber') this.#subscriberLost = true;
      this.events.down(name);
    };
    this.listen(connection, ['ready'], up);
    this.listen(connection, DOWN_EVENTS, down);
    if (connection.status !== 'ready' && !IDLE.has(connection.status)) down();
  }

  /**
   * ioredis re-subscribes on reconnect without waiting for Redis's ack before 'ready' (and not at
   * all with `autoResubscribe: false`). Subscribing again ourselves (idempotent) gives an ack to
   * wait for, so 'ready' means a message published now is received.
   */
  #subscriberReady(subscriber: IoredisClient): void {
    const channels = this.events.channels();
    if (!this.#subscriberLost || channels.length === 0) {
      this.#subscriberLost = false;
      this.events.up('subscriber');
      return;
    }
    bounded('SUBSCRIBE', this.opTimeoutMs, () => subscriber.subscribe(...channels))
      .catch(noop)
      .then(() => {
        // Lost again meanwhile: a later 'ready' reports it.
        if (subscriber.status !== 'ready') return;
        this.#subscriberLost = false;
        this.events.up('subscriber');
      });
  }
}
