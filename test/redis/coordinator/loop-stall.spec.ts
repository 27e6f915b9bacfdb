import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import {
  DistributedFlight,
  ioredisAdapter,
  nodeRedisAdapter,
  type RedisCoordinator,
} from '../../../lib/redis/index.js';
import { busyWait } from '../../support/busy-wait.js';
import { type RedisServer, startRedis } from '../../support/redis-server.js';

// A stalled event loop (synchronous work in the app) right after a Redis command: the reply comes
// back during the stall, but timers run before the loop reads the sockets. The command's own timer
// must not call that an outage.

const OP_TIMEOUT_MS = 100;
const STALL_MS = 400;

let server: RedisServer;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startRedis();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

afterAll(async () => {
  await server?.stop();
});

const adapters: Array<[string, () => Promise<RedisCoordinator>]> = [
  [
    'node-redis',
    async () => {
      const client = await createClient({ url: server.url, disableOfflineQueue: true }).connect();
      const coordinator = nodeRedisAdapter(client, { opTimeoutMs: OP_TIMEOUT_MS });
      cleanups.push(() => client.destroy());
      cleanups.push(() => coordinator.close());
      return coordinator;
    },
  ],
  [
    'ioredis',
    async () => {
      const client = new Redis(server.port, '127.0.0.1', {
        enableOfflineQueue: false,
        lazyConnect: true,
      });
      await client.connect();
      const coordinator = ioredisAdapter(client, { opTimeoutMs: OP_TIMEOUT_MS });
      cleanups.push(() => client.disconnect());
      cleanups.push(() => coordinator.close());
      return coordinator;
    },
  ],
];

describe.each(adapters)('a stalled event loop, %s adapter', (_library, adapt) => {
  it('reads a reply that arrived during the stall instead of timing out', async () => {
    const coordinator = await adapt();
    const reply = coordinator.get('k');
    // One I/O turn lets the client write the command; the reply then surely arrives during the stall.
    await new Promise((resolve) => setImmediate(resolve));
    busyWait(STALL_MS);
    await expect(reply).resolves.toBeNull();
  });

  it('gives a command that the stall kept from being sent its time after the stall', async () => {
    const coordinator = await adapt();
    const reply = coordinator.get('k');
    busyWait(STALL_MS);
    await expect(reply).resolves.toBeNull();
  });

  it('still times out on a hung server after a stall', async () => {
    const coordinator = await adapt();
    server.freeze();
    try {
      const reply = coordinator.get('k');
      busyWait(STALL_MS);
      await expect(reply).rejects.toMatchObject({
        name: 'SingleflightCoordinationError',
        reason: 'timeout',
      });
    } finally {
      server.thaw();
    }
  });
});

describe('a stalled event loop right after a distributed flight', () => {
  it('is no coordination error and costs no extra backend call', async () => {
    const [a, b] = [await adapters[0]![1](), await adapters[0]![1]()];
    const flights = [new DistributedFlight(a), new DistributedFlight(b)];
    for (const flight of flights) {
      await flight.init();
      cleanups.push(() => flight.close());
    }
    let calls = 0;
    const work = async () => ++calls;

    const first = flights[0]!.run('stall:k', work);
    await new Promise((resolve) => setImmediate(resolve));
    busyWait(STALL_MS);
    await expect(first).resolves.toBe(1);
    // The other instance reuses the result the first one published.
    await expect(flights[1]!.run('stall:k', work)).resolves.toBe(1);

    expect(calls).toBe(1);
    expect(flights[0]!.stats()).toMatchObject({
      coordinationErrors: 0,
      leader: 1,
      localFallbacks: 0,
    });
    expect(flights[1]!.stats()).toMatchObject({ coordinationErrors: 0, reused: 1 });
  });
});
