import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import * as messages from './nest.messages.js';
import * as redisMessages from '../redis/redis.messages.js';
import type { RedisCoordinator } from '../redis/coordinator/coordinator.interface.js';
import { DistributedFlight } from '../redis/flight/distributed-flight.js';
import { DistributedWriteGroup } from '../redis/writes/distributed-write-group.js';
import {
  type IoredisClient,
  ioredisAdapter,
  isIoredisClient,
} from '../redis/coordinator/ioredis.adapter.js';
import {
  isNodeRedisClient,
  type NodeRedisClient,
  nodeRedisAdapter,
} from '../redis/coordinator/node-redis.adapter.js';
import type { SingleflightRedisOptions } from './interfaces/singleflight-redis-options.interface.js';
import { type UrlClient, urlClient } from '../redis/coordinator/url-client.js';
import type { SingleflightLog } from './singleflight-log.js';
import type { TypeCodec } from '../cache/type-codec.js';

/**
 * This app's distributed engines, made from `forRoot({ redis })`: subscribed before the app takes
 * calls, closed when it shuts down. Internal: the FlightRunner uses it.
 */
export class RedisCoordination implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly flights: DistributedFlight | undefined;
  readonly writes: DistributedWriteGroup | undefined;
  readonly #coordinator: RedisCoordinator;
  readonly #ownsCoordinator: boolean;
  /** The client made from `redis.url`: connected at bootstrap, closed after the engines. */
  readonly #urlClient: UrlClient | undefined;
  /** The client the adapter was made for (not with `coordinator`). */
  readonly #client: NodeRedisClient | IoredisClient | undefined;
  /** Whether that client was open when the app started: if it is closed later, its owner did it. */
  #openedAtBootstrap = false;
  /** What the start-up line says: the namespace of each engine, or that it is off. */
  readonly #summary: string;

  /**
   * The engines for `options`; with `url`, over a client the module makes (and owns). Bad options
   * fail before any client is made.
   */
  static async create(
    options: SingleflightRedisOptions,
    appLog: SingleflightLog,
    detectAsyncReentry: boolean | undefined,
    where: string,
    codecs?: readonly TypeCodec[],
  ): Promise<RedisCoordination> {
    check(options, where);
    const client = options.url === undefined ? undefined : await urlClient(options.url, where);
    return new RedisCoordination(options, appLog, detectAsyncReentry, where, codecs, client);
  }

  /**
   * `detectAsyncReentry`: the module's, the default of `options.writes.detectAsyncReentry`;
   * `where`: the call that gave the options, for the messages; `codecs`: the module's, which the
   * flights and writes share with the cache.
   */
  private constructor(
    options: SingleflightRedisOptions,
    appLog: SingleflightLog,
    detectAsyncReentry: boolean | undefined,
    where: string,
    codecs: readonly TypeCodec[] | undefined,
    urlClient?: UrlClient,
  ) {
    const client = urlClient?.client ?? options.client;
    const log = (message: string, error?: unknown) => {
      const text = error === undefined ? message : `${message} ${String(error)}`;
      // A client its owner closed is not Redis trouble: an app that closes it before this module
      // stops (in onModuleDestroy, or beforeApplicationShutdown) gets no warning for it.
      if (this.#openedAtBootstrap && client !== undefined && closedByOwner(client)) {
        appLog.debug(text);
      } else appLog.warn(text);
    };
    const { namespace, secret, flights, writes } = options;
    this.#urlClient = urlClient;
    this.#client = client;
    this.#ownsCoordinator = options.coordinator === undefined;
    this.#coordinator = options.coordinator ?? adapterFor({ ...options, client }, where);
    const under = (
      name: string,
      engine: { namespace?: string } | false | undefined,
      own: string,
    ) => (engine === false ? `${name} off` : `${name} under "${engine?.namespace ?? own}"`);
    this.#summary =
      `${under('flights', flights, `${namespace}:sf`)}, ` +
      `${under('writes', writes, `${namespace}:mw`)}` +
      (urlClient === undefined ? '' : ` (its own ${urlClient.library} client, from redis.url)`);
    this.flights =
      flights === false
        ? undefined
        : new DistributedFlight(
            this.#coordinator,
            { namespace: `${namespace}:sf`, secret, ...given(flights), codecs },
            log,
          );
    this.writes =
      writes === false
        ? undefined
        : new DistributedWriteGroup(
            this.#coordinator,
            { namespace: `${namespace}:mw`, secret, detectAsyncReentry, ...given(writes), codecs },
            log,
          );
  }

  /** E.g. `flights under "orders:sf", writes under "orders:mw"`, for the start-up line. */
  describe(): string {
    return this.#summary;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Each resolves when Redis is down too: the app starts, and its calls run in-process.
    await this.#urlClient?.connect();
    this.#openedAtBootstrap = this.#client !== undefined && !closedByOwner(this.#client);
    await Promise.all([this.flights?.init(), this.writes?.init()]);
  }

  /**
   * Nest runs each shutdown hook in the app's modules before this global module's, so a client
   * the app closes in its own `onApplicationShutdown` is still open here: the engines stop, and
   * unsubscribe, before it goes (and nothing reports its closing as a lost connection).
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.flights?.close(), this.writes?.close()]);
    if (this.#ownsCoordinator) await this.#coordinator.close();
    this.#urlClient?.close();
  }
}

/** What the options must hold whatever the client: checked before a client is made. */
function check(options: SingleflightRedisOptions, where: string): void {
  const { namespace, flights, writes } = options;
  if (namespace === undefined && (needsNamespace(flights) || needsNamespace(writes))) {
    throw new SingleflightOptionsError(messages.REDIS_NAMESPACE_MISSING(where));
  }
  const clients = (['client', 'coordinator'] as const).filter(
    (name) => options[name] !== undefined,
  );
  if (options.url !== undefined && clients.length > 0) {
    throw new SingleflightOptionsError(messages.REDIS_URL_WITH_CLIENT(where, clients[0]!));
  }
  if (clients.length === 2) {
    throw new SingleflightOptionsError(redisMessages.REDIS_CLIENT_AND_COORDINATOR(where));
  }
  if (options.coordinator !== undefined && options.opTimeoutMs !== undefined) {
    throw new SingleflightOptionsError(redisMessages.REDIS_TIMEOUT_WITH_COORDINATOR(where));
  }
}

/**
 * Whether `client` was closed by whoever holds it (node-redis: `close()`/`destroy()`; ioredis:
 * `quit()`/`disconnect()`), rather than lost: both keep a lost connection open while they
 * reconnect.
 */
function closedByOwner(client: NodeRedisClient | IoredisClient): boolean {
  return isNodeRedisClient(client) ? !client.isOpen : client.status === 'end';
}

/**
 * The options an engine was given: one given as `undefined` (a setting left unset in spread
 * configuration) is left out, so it takes the module's value (its namespace, its secret) rather
 * than the engine's own default.
 */
function given<T extends object>(options: T | undefined): Partial<T> | undefined {
  if (options === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** An engine that is on and has no namespace of its own takes the app's. */
function needsNamespace(engine: { namespace?: string } | false | undefined): boolean {
  return engine !== false && engine?.namespace === undefined;
}

function adapterFor(
  { client, opTimeoutMs }: SingleflightRedisOptions,
  where: string,
): RedisCoordinator {
  if (isNodeRedisClient(client)) return nodeRedisAdapter(client, { opTimeoutMs });
  if (isIoredisClient(client)) return ioredisAdapter(client, { opTimeoutMs });
  if (client === undefined)
    throw new SingleflightOptionsError(messages.REDIS_CLIENT_MISSING(where));
  throw new SingleflightOptionsError(
    redisMessages.NOT_A_REDIS_CLIENT(`redis.client in ${where}`, 'node-redis or ioredis', client),
  );
}
