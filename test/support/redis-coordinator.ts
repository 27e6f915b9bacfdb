import { createClient } from 'redis';
import type { RedisCoordinator } from '../../lib/redis/coordinator/coordinator.interface.js';
import { nodeRedisAdapter } from '../../lib/redis/coordinator/node-redis.adapter.js';

export type TestClient = ReturnType<typeof createClient>;

/** The Redis side of one "pod": its own node-redis client, the library's adapter over it. */
export interface TestCoordinator {
  coordinator: RedisCoordinator;
  client: TestClient;
  /** Closes the adapter (its subscriber connection), then the client. */
  close(): Promise<void>;
}

export async function connectCoordinator(
  url: string,
  {
    opTimeoutMs = 250,
    waitForServer = true,
  }: {
    opTimeoutMs?: number;
    /** false: do not wait for the connection (a server that is down; node-redis keeps retrying). */
    waitForServer?: boolean;
  } = {},
): Promise<TestCoordinator> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) },
  });
  const connecting = client.connect();
  if (waitForServer) await connecting;
  else connecting.catch(() => {});
  const coordinator = nodeRedisAdapter(client, { opTimeoutMs });
  return {
    coordinator,
    client,
    async close() {
      await coordinator.close();
      // destroy(), not close(): close() waits for replies a frozen server never sends.
      client.destroy();
    },
  };
}

/** `INFO commandstats` as calls per command (failed calls not counted). */
export async function commandCalls(client: TestClient): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const calls: Record<string, number> = {};
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),.*?failed_calls=(\d+)/.exec(line);
    if (match) calls[match[1]!] = Number(match[2]) - Number(match[3]);
  }
  return calls;
}

/**
 * A test wrapper around a coordinator: every method delegates to `real` unless `overrides` has
 * it (e.g. a `subscribe` that drops messages, an `eval` that fails). Real adapters are class
 * instances, so spreading one would lose its methods.
 */
export function wrapCoordinator(
  real: RedisCoordinator,
  overrides: Partial<RedisCoordinator>,
): RedisCoordinator {
  return {
    eval: (script, keys, args) => real.eval(script, keys, args),
    get: (key) => real.get(key),
    subscribe: (channel, onMessage) => real.subscribe(channel, onMessage),
    unsubscribe: (channel) => real.unsubscribe(channel),
    scan: (pattern, count) => real.scan(pattern, count),
    onConnectionLost: (listener) => real.onConnectionLost(listener),
    onReady: (listener) => real.onReady(listener),
    close: () => real.close(),
    ...overrides,
  };
}
