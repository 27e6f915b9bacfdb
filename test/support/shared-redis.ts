import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { type RedisServer, startRedis } from './redis-server.js';
import { type Connection, connect } from './write-fleet.js';

// Jest hooks, kept apart from write-fleet.ts, which pod processes load outside Jest.

/**
 * The hooks of a suite on one private redis-server: it starts before the tests with a raw
 * connection to it, `cleanups` (pods, connections) run after each test, newest first.
 */
export function sharedRedis(): {
  redis: RedisServer;
  raw: Connection;
  cleanups: (() => Promise<void>)[];
} {
  const suite = { cleanups: [] } as unknown as {
    redis: RedisServer;
    raw: Connection;
    cleanups: (() => Promise<void>)[];
  };
  beforeAll(async () => {
    suite.redis = await startRedis();
    suite.raw = await connect(suite.redis.url);
  });
  afterEach(async () => {
    for (const cleanup of suite.cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await suite.raw?.close();
    await suite.redis?.stop();
  });
  return suite;
}
