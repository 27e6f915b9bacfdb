import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { RedisCoordinator } from '../../lib/redis/coordinator/coordinator.interface.js';
import type {
  WriteRun,
  WriteRunContext,
} from '../../lib/redis/writes/distributed-write-group.interfaces.js';
import {
  type NodeRedisClient,
  nodeRedisAdapter,
} from '../../lib/redis/coordinator/node-redis.adapter.js';
import { DistributedWriteGroup } from '../../lib/redis/writes/distributed-write-group.js';
import type { DistributedWriteOptions } from '../../lib/redis/writes/distributed-write-group.interfaces.js';
import { EVENT } from '../../lib/redis/writes/write.scripts.js';
import { ARGS_FORMAT } from '../../lib/redis/writes/write-args.js';
import { type RedisServer, startRedis } from './redis-server.js';

// Helpers for the distributed MergeWrites tests (in-process pods and pod processes alike).

export type RedisClient = ReturnType<typeof createClient>;

/** One pod's Redis side: the user's node-redis client and the library's adapter over it. */
export interface Connection {
  client: RedisClient;
  coordinator: RedisCoordinator;
  close(): Promise<void>;
}

/**
 * An EVENT that reached Redis: the call's arguments (their codec data as JSON; plain data reads as
 * plain JSON) and the `ver` Redis gave it.
 */
export interface EventRecord {
  key: string;
  json: string;
  ver: number;
}

export async function connect(
  url: string,
  options: { opTimeoutMs?: number; onEvent?: (event: EventRecord) => void } = {},
): Promise<Connection> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 300) },
  });
  client.on('error', () => {});
  await client.connect();
  const adapter = nodeRedisAdapter(client as unknown as NodeRedisClient, {
    opTimeoutMs: options.opTimeoutMs ?? 250,
  });
  const coordinator = options.onEvent ? recordEvents(adapter, options.onEvent) : adapter;
  return {
    client,
    coordinator,
    async close() {
      await adapter.close();
      client.destroy();
    },
  };
}

/**
 * The adapter, reporting each EVENT that stored arguments once Redis answered. Redis orders the
 * events of one key, so the event with the highest `ver` is "the newest" across pods: what the
 * final push must carry.
 */
export function recordEvents(
  inner: RedisCoordinator,
  onEvent: (event: EventRecord) => void,
): RedisCoordinator {
  return {
    async eval(script, keys, args) {
      const reply = await inner.eval(script, keys, args);
      if (script === EVENT && args[5] === '1') {
        onEvent({
          key: String(args[3]),
          json: args[2] === '' ? '' : JSON.stringify(storedArgs(String(args[2]))),
          ver: Number((reply as unknown[])[1]),
        });
      }
      return reply;
    },
    get: (key) => inner.get(key),
    subscribe: (channel, onMessage) => inner.subscribe(channel, onMessage),
    unsubscribe: (channel) => inner.unsubscribe(channel),
    scan: (pattern, count) => inner.scan(pattern, count),
    onConnectionLost: (listener) => inner.onConnectionLost(listener),
    onReady: (listener) => inner.onReady(listener),
    close: () => inner.close(),
  };
}

/**
 * The codec data of the arguments as stored in Redis (`{"f":2,"a":[...]}`, behind `hmac.` with a
 * secret); for plain data, the arguments themselves.
 */
export function storedArgs(stored: string): unknown {
  const envelope = /^[0-9a-f]{64}\./.test(stored) ? stored.slice(65) : stored;
  return (JSON.parse(envelope) as { a: unknown }).a;
}

/** Plain-data arguments as an instance without a secret stores them (for a raw client's EVENT). */
export function storedForm(args: unknown[]): string {
  return JSON.stringify({ f: ARGS_FORMAT, a: args });
}

/** The Redis keys of one user key, as the library names them. */
export function redisKeys(namespace: string, key: string) {
  // The namespace's length, then both as UTF-16 code units: an injective encoding of the pair.
  const id = createHash('sha1')
    .update(`${namespace.length}:${namespace}${key}`, 'utf16le')
    .digest('hex');
  return { id, lease: `${namespace}:{${id}}:lease`, st: `${namespace}:{${id}}:st` };
}

/** `ver`, `done`, `fence`, `args` of a key's state hash, and whether a lease is held. */
export async function redisState(client: RedisClient, namespace: string, key: string) {
  const { lease, st } = redisKeys(namespace, key);
  const hash = await client.hGetAll(st);
  return {
    ver: Number(hash.ver ?? 0),
    done: Number(hash.done ?? 0),
    fence: Number(hash.fence ?? 0),
    args: hash.args === undefined ? undefined : storedArgs(hash.args),
    leased: (await client.exists(lease)) === 1,
  };
}

export interface Write {
  key: string;
  args: unknown[];
  fence: number;
  pod: string;
}

/**
 * A downstream in the test process: holds each push for a while and records, per key, how many
 * pushes overlap and the order in which writes land.
 */
export class Downstream {
  readonly writes: Write[] = [];
  readonly #active = new Map<string, number>();
  maxConcurrent = 0;

  /** The push of pod `pod`: lands after `holdMs()`, or throws when `fail()` says so. */
  push(
    pod: string,
    holdMs: () => number = () => 5,
    fail: () => boolean = () => false,
  ): WriteRun<unknown[], string> {
    return async (args: unknown[], { key, fence }: WriteRunContext) => {
      const active = (this.#active.get(key) ?? 0) + 1;
      this.#active.set(key, active);
      this.maxConcurrent = Math.max(this.maxConcurrent, active);
      try {
        await new Promise((resolve) => setTimeout(resolve, holdMs()));
        if (fail()) throw new Error(`downstream refused ${key} ${JSON.stringify(args)}`);
        this.writes.push({ key, args, fence, pod });
        return `${pod}:${JSON.stringify(args)}`;
      } finally {
        this.#active.set(key, this.#active.get(key)! - 1);
      }
    };
  }

  last(key: string): Write | undefined {
    return this.writes.findLast((write) => write.key === key);
  }

  of(key: string): Write[] {
    return this.writes.filter((write) => write.key === key);
  }
}

/** Resolves once the async `condition()` holds, checking every 10 ms; fails after `ms`. */
export async function eventually(condition: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * One pod: a group on `namespace` over a connection of its own, initialized (the sweep off unless
 * `options` turn it on); `cleanups` gets what closes both.
 */
export async function startPod(
  url: string,
  namespace: string,
  options: DistributedWriteOptions,
  cleanups: (() => Promise<void>)[],
  {
    log = () => {},
    onEvent,
  }: { log?: (message: string) => void; onEvent?: (event: EventRecord) => void } = {},
): Promise<{ group: DistributedWriteGroup; connection: Connection }> {
  const connection = await connect(url, { onEvent });
  const group = new DistributedWriteGroup(
    connection.coordinator,
    { namespace, sweepEveryMs: 0, ...options },
    log,
  );
  await group.init();
  cleanups.push(async () => {
    await group.close();
    await connection.close();
  });
  return { group, connection };
}

/**
 * A private redis-server, a raw connection to it and `n` groups (= pods) on `namespace`, each on
 * its own connections; `cleanups` gets what closes them. For tests that kill or freeze Redis.
 */
export async function privateFleet(
  n: number,
  namespace: string,
  options: DistributedWriteOptions,
  cleanups: (() => Promise<void>)[],
  onEvent?: (event: EventRecord) => void,
): Promise<{ redis: RedisServer; raw: Connection; groups: DistributedWriteGroup[] }> {
  const redis = await startRedis();
  const raw = await connect(redis.url);
  cleanups.push(
    () => redis.stop(),
    () => raw.close(),
  );
  const groups: DistributedWriteGroup[] = [];
  for (let i = 0; i < n; i++) {
    groups.push((await startPod(redis.url, namespace, options, cleanups, { onEvent })).group);
  }
  return { redis, raw, groups };
}
