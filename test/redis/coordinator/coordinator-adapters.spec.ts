import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { SingleflightArgumentError, SingleflightOptionsError } from '../../../lib/core/index.js';
import {
  SingleflightCoordinationError,
  ioredisAdapter,
  nodeRedisAdapter,
  type RedisCoordinator,
  type RedisScript,
} from '../../../lib/redis/index.js';
import { rejectionOf } from '../../support/deferred.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';
import { until } from '../../support/until.js';

// One contract, run against both adapters, each with its own real redis-server and real clients.

interface AdapterOptions {
  opTimeoutMs?: number;
  subscriber?: Connection;
}

/** One client of one library, plus what the tests need to drive it directly. */
interface Connection {
  adapter(options?: AdapterOptions): RedisCoordinator;
  /** A raw command on this client, bypassing the adapter. */
  command(...args: string[]): Promise<unknown>;
  readonly isOpen: boolean;
  close(): Promise<void> | void;
}

interface Kit {
  library: 'node-redis' | 'ioredis';
  /** The RESP version the clients speak (node-redis 6 and ioredis 6 default to 3). */
  resp: 2 | 3;
  /** Whether a command that timed out before it was sent is dropped, not sent on reconnect. */
  dropsUnsent: boolean;
  connect(server: RedisServer, options?: ConnectOptions): Promise<Connection>;
}

interface ConnectOptions {
  /** Retry every `retryMs` while the server is gone (default 50). */
  retryMs?: number;
  /** Fail at once while disconnected, as the adapters recommend (default true). */
  failFast?: boolean;
}

const noop = () => {};

const nodeRedis = (resp: 2 | 3): Kit => ({
  library: 'node-redis',
  resp,
  dropsUnsent: true,
  async connect(server, { retryMs = 50, failFast = true } = {}) {
    const client = createClient({
      url: server.url,
      RESP: resp,
      disableOfflineQueue: failFast,
      socket: { reconnectStrategy: () => retryMs },
    });
    client.on('error', noop);
    await client.connect();
    const connection: Connection & { client: typeof client } = {
      client,
      adapter: ({ subscriber, ...options } = {}) =>
        nodeRedisAdapter(client, {
          ...options,
          subscriber: (subscriber as typeof connection | undefined)?.client,
        }),
      command: (...args) => client.sendCommand(args),
      get isOpen() {
        return client.isOpen;
      },
      close: () => void (client.isOpen && client.destroy()),
    };
    return connection;
  },
});

const ioredis = (resp: 2 | 3): Kit => ({
  library: 'ioredis',
  resp,
  dropsUnsent: false,
  async connect(server, { retryMs = 50, failFast = true } = {}) {
    const client = new Redis(server.port, '127.0.0.1', {
      protocol: resp,
      enableOfflineQueue: !failFast,
      retryStrategy: () => retryMs,
      lazyConnect: true,
    });
    client.on('error', noop);
    await client.connect();
    const connection: Connection & { client: Redis } = {
      client,
      adapter: ({ subscriber, ...options } = {}) =>
        ioredisAdapter(client, {
          ...options,
          subscriber: (subscriber as typeof connection | undefined)?.client,
        }),
      command: (command, ...args) => client.call(command!, ...args),
      get isOpen() {
        return client.status !== 'end';
      },
      close: () => disconnect(client),
    };
    return connection;
  },
});

const ECHO: RedisScript = {
  name: 'test:echo',
  source: "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[2]) * 2, {1, 'x'}}",
};
const INCR: RedisScript = { name: 'test:incr', source: "return redis.call('INCR', KEYS[1])" };
const NIL: RedisScript = { name: 'test:nil', source: 'return nil' };
const BOOLEANS: RedisScript = { name: 'test:booleans', source: 'return {true, false}' };
const sha1 = (script: RedisScript) => createHash('sha1').update(script.source).digest('hex');

/** Closes an ioredis client and waits until its socket is gone. */
async function disconnect(client: Redis): Promise<void> {
  // Between reconnect attempts there is no socket, and ioredis never emits 'end'.
  const ended =
    client.status === 'end' || client.status === 'reconnecting'
      ? undefined
      : new Promise((resolve) => client.once('end', resolve));
  client.disconnect();
  await ended;
}

/** Retries an async check until it holds (for what the server learns a moment later). */
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}

describe.each([nodeRedis(2), nodeRedis(3), ioredis(2), ioredis(3)])(
  'RedisCoordinator over $library (RESP$resp)',
  (kit) => {
    let server: RedisServer;
    const cleanups: Array<() => Promise<void> | void> = [];

    const connect = async (options?: ConnectOptions) => {
      const connection = await kit.connect(server, options);
      cleanups.push(() => connection.close());
      return connection;
    };
    const adapt = (connection: Connection, options?: AdapterOptions) => {
      const coordinator = connection.adapter(options);
      cleanups.push(() => coordinator.close());
      return coordinator;
    };
    const numsub = async (connection: Connection, channel: string) => {
      // [channel, count] in RESP2; a map in RESP3, which node-redis gives as an object.
      const reply = (await connection.command('PUBSUB', 'NUMSUB', channel)) as
        [string, number] | Record<string, number>;
      return Array.isArray(reply) ? reply[1] : reply[channel];
    };

    beforeAll(async () => {
      server = await startRedis();
    });

    afterEach(async () => {
      server.thaw();
      // Adapters first (pushed after their clients), then clients.
      while (cleanups.length > 0) await cleanups.pop()!();
      if (server.pid === -1) await server.restart();
      else {
        const admin = await kit.connect(server);
        await admin.command('FLUSHALL');
        await admin.command('SCRIPT', 'FLUSH');
        await admin.close();
      }
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('evaluates a script with KEYS and ARGV, and returns numbers, arrays and nil', async () => {
      const coordinator = adapt(await connect());
      await expect(coordinator.eval(ECHO, ['k1', 'k2'], ['a', 21])).resolves.toEqual([
        'k1',
        'k2',
        'a',
        '21',
        42,
        [1, 'x'],
      ]);
      await expect(coordinator.eval(NIL, [], [])).resolves.toBeNull();
      // Lua booleans in RESP2 shape, even over a RESP3 connection (ioredis 6's default).
      await expect(coordinator.eval(BOOLEANS, [], [])).resolves.toEqual([1, null]);
    });

    it('runs scripts by SHA1 and recovers from NOSCRIPT after SCRIPT FLUSH', async () => {
      const connection = await connect();
      const coordinator = adapt(connection);
      await coordinator.eval(ECHO, ['a', 'b'], ['c', 1]);
      await expect(connection.command('SCRIPT', 'EXISTS', sha1(ECHO))).resolves.toEqual([1]);

      await connection.command('SCRIPT', 'FLUSH');
      await expect(coordinator.eval(ECHO, ['a', 'b'], ['c', 1])).resolves.toEqual([
        'a',
        'b',
        'c',
        '1',
        2,
        [1, 'x'],
      ]);
      // Cached again, so the next EVALSHA finds it.
      await expect(connection.command('SCRIPT', 'EXISTS', sha1(ECHO))).resolves.toEqual([1]);
    });

    it('rejects a failing script with the coordination error, keeping the cause', async () => {
      const coordinator = adapt(await connect());
      const boom: RedisScript = { name: 'test:boom', source: "return redis.error_reply('BOOM')" };
      const error = await rejectionOf(coordinator.eval(boom, [], []));
      expect(error).toBeInstanceOf(SingleflightCoordinationError);
      expect(error).toMatchObject({ operation: 'EVALSHA test:boom', reason: 'error' });
      expect(((error as Error).cause as Error).message).toContain('BOOM');
    });

    it('gets a string, or null for a missing key', async () => {
      const connection = await connect();
      const coordinator = adapt(connection);
      await connection.command('SET', 'present', 'value');
      await expect(coordinator.get('present')).resolves.toBe('value');
      await expect(coordinator.get('missing')).resolves.toBeNull();
    });

    it('subscribes with an ack, then receives what another connection publishes', async () => {
      const coordinator = adapt(await connect());
      const publisher = await connect();
      const received: string[] = [];
      await coordinator.subscribe('news', (message) => received.push(message));
      // Acknowledged: the server already counts the subscriber.
      await expect(publisher.command('PUBLISH', 'news', 'one')).resolves.toBe(1);
      await publisher.command('PUBLISH', 'news', 'two');
      await until(() => received.length === 2);
      expect(received).toEqual(['one', 'two']);
    });

    it('replaces the listener when a channel is subscribed again', async () => {
      const coordinator = adapt(await connect());
      const publisher = await connect();
      const first: string[] = [];
      const second: string[] = [];
      await coordinator.subscribe('news', (message) => first.push(message));
      await coordinator.subscribe('news', (message) => second.push(message));
      await expect(publisher.command('PUBLISH', 'news', 'm')).resolves.toBe(1);
      await until(() => second.length === 1);
      expect(first).toEqual([]);
    });

    it('stops delivery on unsubscribe', async () => {
      const coordinator = adapt(await connect());
      const publisher = await connect();
      const received: string[] = [];
      await coordinator.subscribe('news', (message) => received.push(message));
      await coordinator.subscribe('other', noop);
      await coordinator.unsubscribe('news');
      await expect(publisher.command('PUBLISH', 'news', 'late')).resolves.toBe(0);
      await expect(publisher.command('PUBLISH', 'other', 'still')).resolves.toBe(1);
      expect(received).toEqual([]);
    });

    it('scans exactly the matching keys, over several batches', async () => {
      const connection = await connect();
      const coordinator = adapt(connection);
      const expected = Array.from({ length: 250 }, (_, i) => `scan:hit:${i}`);
      await connection.command('MSET', ...expected.flatMap((key) => [key, '1']));
      await connection.command(
        'MSET',
        ...Array.from({ length: 40 }, (_, i) => [`scan:miss:${i}`, '1']).flat(),
      );

      await connection.command('CONFIG', 'RESETSTAT');

      const keys: string[] = [];
      for await (const key of coordinator.scan('scan:hit:*', 20)) keys.push(key);
      expect([...new Set(keys)].sort()).toEqual([...expected].sort());
      const stats = String(await connection.command('INFO', 'commandstats'));
      expect(Number(/cmdstat_scan:calls=(\d+)/.exec(stats)?.[1])).toBeGreaterThan(1);
    });

    it.each([
      ['its own subscriber', false],
      ['a given subscriber that reconnects last', true],
    ])(
      'reports a lost connection when the server dies, and ready with subscriptions restored after restart (%s)',
      async (_, given) => {
        const connection = await connect();
        // A slower subscriber comes back after the client, so 'ready' waits for the resubscription.
        const coordinator = adapt(
          connection,
          given ? { subscriber: await connect({ retryMs: 400 }) } : {},
        );
        const received: string[] = [];
        await coordinator.subscribe('news', (message) => received.push(message));
        let lost = 0;
        let ready = 0;
        let published: Promise<unknown> | undefined;
        coordinator.onConnectionLost(() => lost++);
        coordinator.onReady(() => {
          ready++;
          // Ready means resubscribed: even a publish from inside this callback is received.
          published = connection.command('PUBLISH', 'news', 'back');
        });
        const removed = counter();
        coordinator.onConnectionLost(removed.fn)();

        await server.kill();
        await until(() => lost === 1);
        await expect(coordinator.get('k')).rejects.toBeInstanceOf(SingleflightCoordinationError);
        // Several failed reconnect attempts, still one loss.
        await sleep(200);
        await server.restart();
        await until(() => ready === 1);
        expect(lost).toBe(1);
        expect(removed.calls).toBe(0);

        await expect(published).resolves.toBe(1);
        await until(() => received.length === 1);
        expect(received).toEqual(['back']);
        await expect(coordinator.get('k')).resolves.toBeNull();
      },
    );

    it('rejects with the coordination error when the server hangs, then recovers', async () => {
      const opTimeoutMs = 300;
      const coordinator = adapt(await connect(), { opTimeoutMs });
      await coordinator.subscribe('news', noop);

      server.freeze();
      const started = Date.now();
      const [evalError, getError] = await Promise.all([
        rejectionOf(coordinator.eval(ECHO, ['a', 'b'], ['c', 1])),
        rejectionOf(coordinator.get('k')),
      ]);
      // Bounded by the adapter's timer, not hung (a generous bound, not a speed check).
      expect(Date.now() - started).toBeLessThan(5 * opTimeoutMs);
      for (const error of [evalError, getError]) {
        expect(error).toBeInstanceOf(SingleflightCoordinationError);
        expect(error).toMatchObject({ name: 'SingleflightCoordinationError', reason: 'timeout' });
      }
      expect(evalError).toMatchObject({ operation: 'EVALSHA test:echo' });
      expect((getError as Error).message).toContain(`${opTimeoutMs} ms`);

      server.thaw();
      await expect(coordinator.get('k')).resolves.toBeNull();
    });

    it('bounds a command by opTimeoutMs on a client that queues while disconnected', async () => {
      const opTimeoutMs = 300;
      const connection = await connect({ failFast: false });
      const coordinator = adapt(connection, { opTimeoutMs });
      let lost = false;
      let ready = false;
      coordinator.onConnectionLost(() => (lost = true));
      coordinator.onReady(() => (ready = true));

      await server.kill();
      await until(() => lost); // so the command is queued, not written to the dying socket
      const error = await rejectionOf(coordinator.eval(INCR, ['counter'], []));
      expect(error).toMatchObject({ name: 'SingleflightCoordinationError', reason: 'timeout' });

      await server.restart();
      await until(() => ready);
      await expect(coordinator.eval(INCR, ['probe'], [])).resolves.toBe(1);
      // node-redis drops the timed-out command from its queue; ioredis sends it on reconnect.
      await expect(coordinator.get('counter')).resolves.toBe(kit.dropsUnsent ? null : '1');
    });

    it('close() closes only its own subscriber; the client stays usable', async () => {
      const connection = await connect();
      const observer = await connect();
      const coordinator = connection.adapter();
      await coordinator.subscribe('news', noop);
      await expect(numsub(observer, 'news')).resolves.toBe(1);

      await coordinator.close();
      await eventually(async () => (await numsub(observer, 'news')) === 0);
      expect(connection.isOpen).toBe(true);
      await connection.command('SET', 'k', 'v');
      await expect(coordinator.get('k')).resolves.toBe('v');
      await expect(coordinator.subscribe('news', noop)).rejects.toMatchObject({
        name: 'SingleflightCoordinationError',
        reason: 'closed',
      });
      await coordinator.close(); // twice is fine
    });

    it('close() returns during an outage too', async () => {
      const coordinator = (await connect()).adapter();
      let lost = false;
      coordinator.onConnectionLost(() => (lost = true));
      await coordinator.subscribe('news', noop);
      await server.kill();
      await until(() => lost);
      await sleep(100); // between reconnect attempts
      await coordinator.close();
    });

    it('uses a subscriber it is given, and leaves it open on close()', async () => {
      const connection = await connect();
      const subscriber = await connect();
      const observer = await connect();
      const coordinator = connection.adapter({ subscriber });
      const received: string[] = [];
      await coordinator.subscribe('news', (message) => received.push(message));
      await expect(observer.command('PUBLISH', 'news', 'hi')).resolves.toBe(1);
      await until(() => received.length === 1);

      await coordinator.close();
      // Its channels are unsubscribed, the connection itself is the user's.
      await expect(numsub(observer, 'news')).resolves.toBe(0);
      expect(subscriber.isOpen).toBe(true);
    });

    it('rejects a client of the other library, and bad options, at once', async () => {
      const connection = await connect();
      expect(() => connection.adapter({ opTimeoutMs: 0 })).toThrow(SingleflightOptionsError);
      // A timer: past 2^31 - 1 ms it would fire after 1 ms, and every flight would run locally.
      expect(() => connection.adapter({ opTimeoutMs: 2 ** 31 })).toThrow(/at most 2147483647/);
      expect(() => connection.adapter({ opTimeoutMs: Number.NaN })).toThrow(
        SingleflightOptionsError,
      );
      const other = kit.library === 'node-redis' ? ioredis(kit.resp) : nodeRedis(kit.resp);
      const foreign = await other.connect(server);
      cleanups.push(() => foreign.close());
      const wrongAdapter = kit.library === 'node-redis' ? nodeRedisAdapter : ioredisAdapter;
      expect(() => wrongAdapter((foreign as unknown as { client: never }).client)).toThrow(
        SingleflightArgumentError,
      );
    });
  },
);

describe('what only one of the clients has', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const connect = (options: RedisOptions = {}) => {
    const client = new Redis(server.port, '127.0.0.1', { retryStrategy: () => 50, ...options });
    client.on('error', noop);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(clients.map(disconnect));
    await server?.stop();
  });

  it('node-redis: replies keep their default types whatever the client maps them to', async () => {
    const client = createClient({
      url: server.url,
      commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } },
    });
    client.on('error', noop);
    await client.connect();
    try {
      await client.set('typed', 'v');
      await expect(client.get('typed')).resolves.toEqual(Buffer.from('v'));
      const coordinator = nodeRedisAdapter(client);
      await expect(coordinator.get('typed')).resolves.toBe('v');
      await expect(coordinator.eval(ECHO, ['k', 'l'], ['x', 1])).resolves.toContain('x');
      await coordinator.close();
    } finally {
      client.destroy();
    }
  });

  it('ioredis: treats keys as unprefixed in eval, get and scan under a keyPrefix', async () => {
    const coordinator = ioredisAdapter(connect({ keyPrefix: 'app:' }));
    const plain = connect();
    await plain.set('app:k', 'v');
    await plain.set('other', 'v');
    await expect(coordinator.get('k')).resolves.toBe('v');
    await expect(coordinator.eval(ECHO, ['k', 'l'], ['x', 1])).resolves.toEqual(
      expect.arrayContaining(['app:k', 'app:l']),
    );
    const keys: string[] = [];
    for await (const key of coordinator.scan('*')) keys.push(key);
    expect(keys).toEqual(['k']);
    await coordinator.close();
  });

  it('ioredis: restores the subscriptions itself, even on a subscriber with autoResubscribe off', async () => {
    const client = connect();
    const subscriber = connect({ autoResubscribe: false });
    // Both connected first: a first connect that ends late would report a ready of its own.
    await Promise.all(
      [client, subscriber].map(
        (connection) => new Promise((resolve) => connection.once('ready', resolve)),
      ),
    );
    const coordinator = ioredisAdapter(client, { subscriber });
    const received: string[] = [];
    await coordinator.subscribe('news', (message) => received.push(message));
    let ready = false;
    coordinator.onReady(() => (ready = true));

    await server.kill();
    await server.restart();
    await until(() => ready);
    await expect(client.publish('news', 'back')).resolves.toBe(1);
    await until(() => received.length === 1);
    await coordinator.close();
  });
});

/** A listener that counts its calls. */
function counter(): { fn: () => void; readonly calls: number } {
  let calls = 0;
  return {
    fn: () => void calls++,
    get calls() {
      return calls;
    },
  };
}
