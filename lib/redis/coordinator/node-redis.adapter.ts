import { isPlainObject } from '../../core/options.validator.js';
import {
  type AdapterLibrary,
  makeAdapter,
  type ConnectionName,
  type DriverEvents,
} from './adapter-coordinator.js';
import { ClientDriver } from './client-driver.js';
import type { RedisCoordinator } from './coordinator.interface.js';

type MessageListener = (message: string, channel: string) => void;

/**
 * The part of a node-redis client the adapter uses: a client from `createClient()` of `redis`
 * 5.x/6.x, or of `@redis/client` (what `@keyv/redis` users already have). Typed by shape, so
 * this library never loads node-redis and its typings need no particular version.
 * @publicApi
 */
export interface NodeRedisClient {
  /** Whether the socket is open (connecting or connected). */
  readonly isOpen: boolean;
  /** Whether the client is connected and ready for commands. */
  readonly isReady: boolean;
  /** Connects (the adapter calls it only on the subscriber it made). */
  connect(): Promise<unknown>;
  /** Closes at once (the adapter calls it only on the subscriber it made). */
  destroy(): void;
  /** A new client with the same options: the default subscriber. */
  duplicate(): NodeRedisClient;
  /** Every command of the adapter goes through it. */
  sendCommand(
    args: string[],
    options: { abortSignal: AbortSignal; typeMapping: Record<never, never> },
  ): Promise<unknown>;
  /** Used on the subscriber connection only. */
  subscribe(channel: string, listener: MessageListener): Promise<void>;
  /** Used on the subscriber connection only. */
  unsubscribe(channel: string, listener: MessageListener): Promise<void>;
  /** The adapter listens to `'ready'`, `'error'`, `'reconnecting'` and `'end'`. */
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes the adapter's listeners when it closes. */
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * Options of `nodeRedisAdapter(client, options)`.
 * @publicApi
 */
export interface NodeRedisAdapterOptions {
  /**
   * A connected client used only for pub/sub (a subscribed connection can run nothing else).
   * The adapter never closes it.
   * @default `client.duplicate()`, connected on the first `subscribe()` and closed by `close()`
   */
  subscriber?: NodeRedisClient;
  /**
   * Longest wait, in ms, for any one command; the adapter's own timer, because node-redis's
   * `commandOptions.timeout` does not cover a command already written to a hung server.
   * @default 250
   */
  opTimeoutMs?: number;
}

const LIBRARY: AdapterLibrary<NodeRedisClient> = {
  where: 'nodeRedisAdapter()',
  name: 'node-redis',
  aClient: 'a node-redis client',
  isClient: isNodeRedisClient,
};

/**
 * A {@link RedisCoordinator} over a node-redis client, for the distributed flights.
 *
 * Create the client with `disableOfflineQueue: true`, so commands fail at once while Redis is
 * unreachable; with the default offline queue they wait (up to `opTimeoutMs`) instead, and a
 * command that times out unsent is dropped from the queue. Commands use the default reply types
 * whatever the client's `typeMapping`. Connection loss is the client's `'error'` or
 * `'reconnecting'` event while not ready (node-redis emits no `'end'` for a dropped connection,
 * only after `close()`/`destroy()`); readiness is `'ready'`, which node-redis emits after it has
 * restored the subscriptions. The adapter listens to `'error'` on your client, so an error there
 * no longer throws when you have no listener of your own.
 *
 * ```ts
 * const client = await createClient({ url, disableOfflineQueue: true }).connect();
 * const coordinator = nodeRedisAdapter(client);
 * SingleflightModule.forRoot({ redis: { coordinator } }); // or new DistributedFlight(coordinator)
 * ```
 * @publicApi
 */
export function nodeRedisAdapter(
  client: NodeRedisClient,
  options: NodeRedisAdapterOptions = {},
): RedisCoordinator {
  return makeAdapter(
    LIBRARY,
    client,
    options,
    (events, opTimeoutMs) => new NodeRedisDriver(client, options.subscriber, events, opTimeoutMs),
  );
}

/** Whether `value` looks like a node-redis client (the adapter checks the same). */
export function isNodeRedisClient(value: unknown): value is NodeRedisClient {
  return (
    isPlainObject(value) &&
    'isReady' in value &&
    typeof value.sendCommand === 'function' &&
    typeof value.duplicate === 'function'
  );
}

const noop = () => {};
// Anything but a ready connection after one of these means the connection is gone.
const DOWN_EVENTS = ['error', 'reconnecting', 'end'];

class NodeRedisDriver extends ClientDriver<NodeRedisClient> {
  readonly keyPrefix = '';
  readonly #dispatch: MessageListener;

  constructor(
    client: NodeRedisClient,
    subscriber: NodeRedisClient | undefined,
    events: DriverEvents,
    opTimeoutMs: number,
  ) {
    super(client, subscriber, events, opTimeoutMs);
    this.#dispatch = (message, channel) => events.message(channel, message);
    this.#watch(client, 'client');
    if (subscriber !== undefined) this.#watch(subscriber, 'subscriber');
  }

  send(args: string[], signal: AbortSignal): Promise<unknown> {
    return this.client.sendCommand(args, { abortSignal: signal, typeMapping: {} });
  }

  async subscribe(channel: string): Promise<void> {
    const subscriber = await this.connectedSubscriber();
    await subscriber.subscribe(channel, this.#dispatch);
  }

  protected unsubscribeFrom(subscriber: NodeRedisClient, channel: string): Promise<void> {
    // Removing our listener only: a subscriber you passed in may carry listeners of your own.
    return subscriber.unsubscribe(channel, this.#dispatch);
  }

  protected async closeOwn(subscriber: NodeRedisClient): Promise<void> {
    // destroy(), not close(): close() waits for pending replies, forever if Redis hangs.
    if (subscriber.isOpen) subscriber.destroy();
  }

  protected makeSubscriber(): NodeRedisClient {
    const subscriber = this.client.duplicate();
    // Kept after close(): an 'error' with no listener would throw inside node-redis.
    subscriber.on('error', noop);
    return subscriber;
  }

  protected watchSubscriber(subscriber: NodeRedisClient): void {
    this.#watch(subscriber, 'subscriber');
  }

  /** connect() resolves once ready, retrying meanwhile. */
  protected isIdle(subscriber: NodeRedisClient): boolean {
    return !subscriber.isOpen;
  }

  #watch(connection: NodeRedisClient, name: ConnectionName): void {
    this.listen(connection, ['ready'], () => this.events.up(name));
    this.listen(connection, DOWN_EVENTS, () => {
      if (!connection.isReady) this.events.down(name);
    });
    // Still connecting when the adapter is made: 'ready' will follow. Not open at all: commands
    // fail on their own, and waiting for a 'ready' that never comes would hide later losses.
    if (connection.isOpen && !connection.isReady) this.events.down(name);
  }
}
