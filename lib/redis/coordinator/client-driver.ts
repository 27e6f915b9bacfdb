import type { CoordinatorDriver, DriverEvents } from './adapter-coordinator.js';
import { bounded } from './bounded-command.js';

/** What both client libraries give a driver on each of its connections. */
export interface DriverConnection {
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * What the node-redis and ioredis drivers share: the subscriber connection and the listeners.
 *
 * The subscriber is the one given, or made on the first `subscribe()` (`makeSubscriber`), then
 * connected once however many subscribe at the same time. `close()` removes every listener the
 * driver put on a connection; it closes a subscriber the driver made (`closeOwn`), and only
 * unsubscribes the adapter's channels from one it was given, which stays its owner's.
 */
export abstract class ClientDriver<C extends DriverConnection> implements CoordinatorDriver {
  abstract readonly keyPrefix: string;
  readonly #ownsSubscriber: boolean;
  #subscriber: C | undefined;
  #connecting: Promise<unknown> | undefined;
  readonly #unwatch: (() => void)[] = [];

  /** A subclass watches the connections it was given once its own fields are set. */
  constructor(
    protected readonly client: C,
    subscriber: C | undefined,
    protected readonly events: DriverEvents,
    protected readonly opTimeoutMs: number,
  ) {
    this.#ownsSubscriber = subscriber === undefined;
    this.#subscriber = subscriber;
  }

  abstract send(args: string[], signal: AbortSignal): Promise<unknown>;
  abstract subscribe(channel: string): Promise<void>;

  async unsubscribe(channel: string): Promise<void> {
    if (this.#subscriber !== undefined) await this.unsubscribeFrom(this.#subscriber, channel);
  }

  async close(channels: string[]): Promise<void> {
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    const subscriber = this.#subscriber;
    if (subscriber === undefined) return;
    if (this.#ownsSubscriber) return this.closeOwn(subscriber);
    await Promise.allSettled(
      channels.map((channel) =>
        bounded('UNSUBSCRIBE', this.opTimeoutMs, () => this.unsubscribeFrom(subscriber, channel)),
      ),
    );
  }

  /** The subscriber, made on first use; when the driver made it, connected before it is used. */
  protected async connectedSubscriber(): Promise<C> {
    let subscriber = this.#subscriber;
    if (subscriber === undefined) {
      subscriber = this.#subscriber = this.makeSubscriber();
      this.watchSubscriber(subscriber);
    }
    if (this.#ownsSubscriber && this.isIdle(subscriber)) {
      // Concurrent subscribes share this one attempt; the client keeps retrying after it.
      const connecting = subscriber.connect();
      this.#connecting = connecting;
      const settled = () => {
        if (this.#connecting === connecting) this.#connecting = undefined;
      };
      connecting.then(settled, settled);
    }
    if (this.#connecting !== undefined) await this.#connecting;
    return subscriber;
  }

  /** `listener` on each of `events` of `connection`, until close(). */
  protected listen(
    connection: C,
    events: readonly string[],
    listener: (...args: any[]) => void,
  ): void {
    for (const event of events) connection.on(event, listener);
    this.#unwatch.push(() => {
      for (const event of events) connection.off(event, listener);
    });
  }

  /** A new subscriber from the client, with a listener that keeps its errors from throwing. */
  protected abstract makeSubscriber(): C;
  /** Watches the subscriber's connection and its messages. */
  protected abstract watchSubscriber(subscriber: C): void;
  /** Neither connected nor connecting: a subscriber the driver made then needs `connect()`. */
  protected abstract isIdle(subscriber: C): boolean;
  /** Closes the subscriber the driver made. */
  protected abstract closeOwn(subscriber: C): Promise<void>;
  protected abstract unsubscribeFrom(subscriber: C, channel: string): Promise<unknown>;
}
