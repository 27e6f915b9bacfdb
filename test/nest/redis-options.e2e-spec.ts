import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import {
  SingleflightArgumentError,
  SingleflightModule,
  SingleflightOptionsError,
} from '../../lib/index.js';
import {
  DistributedFlight,
  DistributedWriteGroup,
  ioredisAdapter,
  nodeRedisAdapter,
} from '../../lib/redis/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type TestClient, wrapCoordinator } from '../support/redis-coordinator.js';
import type { RedisCoordinator } from '../../lib/redis/coordinator/coordinator.interface.js';

// Issue 13 item 14 (Redis part): every option of the distributed engines, the adapters and the
// module's `redis` is checked at construction or start-up, with a named error.

let server: RedisServer;
let client: TestClient;
let ioClient: Redis;
/** Construction touches no Redis: a coordinator whose listeners are all it needs. */
const coordinator = wrapCoordinator({} as RedisCoordinator, {
  onConnectionLost: () => () => {},
  onReady: () => () => {},
});

beforeAll(async () => {
  server = await startRedis();
  client = await createClient({ url: server.url, disableOfflineQueue: true }).connect();
  ioClient = new Redis(server.port, '127.0.0.1', { lazyConnect: true });
});
afterAll(async () => {
  client?.destroy();
  ioClient?.disconnect();
  await server?.stop();
});

const NOT_OPTIONS = [null, 'fast', 42, [1]];

describe('DistributedFlight and DistributedWriteGroup', () => {
  it.each([
    { leaseMs: Number.NaN },
    { resultTtlMs: 0 },
    { waitTimeoutMs: -1 },
    { breakerMs: '5s' },
    { wakeSlackMs: Infinity },
    { maxResultBytes: 1.5 },
    { secret: 'too short' },
    { namespace: 7 },
    ...NOT_OPTIONS,
  ])('DistributedFlight refuses %p', (options) => {
    expect(() => new DistributedFlight(coordinator, options as never)).toThrow(
      SingleflightOptionsError,
    );
  });

  it.each([
    { namespace: '' },
    { namespace: 'mw{1}' },
    { leaseMs: 2 },
    { sweepEveryMs: -1 },
    { waitTimeoutMs: 0 },
    { breakerMs: Number.NaN },
    { recoverSlackMs: 'soon' },
    { stateTtlMs: 0 },
    { retry: { attempts: -1 } },
    { ledger: { started: () => {} } },
    { detectAsyncReentry: 1 },
    { leaseMS: 1000 },
    ...NOT_OPTIONS,
  ])('DistributedWriteGroup refuses %p', (options) => {
    expect(() => new DistributedWriteGroup(coordinator, options as never)).toThrow(
      SingleflightOptionsError,
    );
  });

  it('refuses a coordinator that lacks a method, and a log that is not a function', () => {
    const partial = { eval: async () => null, onConnectionLost: () => () => {} };
    for (const Engine of [DistributedFlight, DistributedWriteGroup]) {
      expect(() => new Engine(partial as never)).toThrow(SingleflightArgumentError);
      expect(() => new Engine(coordinator, {}, 'console' as never)).toThrow(/takes a log function/);
    }
  });
});

describe('nodeRedisAdapter and ioredisAdapter', () => {
  it.each([{ opTimeoutMs: 0 }, { opTimeoutMs: Number.NaN }, { opTimeout: 100 }, ...NOT_OPTIONS])(
    'refuse %p',
    (options) => {
      expect(() => nodeRedisAdapter(client, options as never)).toThrow(SingleflightOptionsError);
      expect(() => ioredisAdapter(ioClient, options as never)).toThrow(SingleflightOptionsError);
    },
  );

  it('refuse a subscriber of the wrong library, or the client itself', () => {
    expect(() => nodeRedisAdapter(client, { subscriber: ioClient as never })).toThrow(
      SingleflightOptionsError,
    );
    expect(() => nodeRedisAdapter(client, { subscriber: client })).toThrow(
      /`subscriber` is the client itself/,
    );
    expect(() => ioredisAdapter(ioClient, { subscriber: ioClient })).toThrow(
      /`subscriber` is the client itself/,
    );
  });
});

describe('SingleflightModule.forRoot({ redis })', () => {
  const start = (redis: unknown) =>
    Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ redis } as never)],
    }).compile();

  // Thunks: the client exists only once beforeAll has run. Each case names what its message says.
  it.each([
    ['not an object', () => 'redis', /Option "redis"/],
    ['an unknown option', () => ({ namespace: 'app', client, clients: [] }), /"clients"/],
    ['an empty namespace', () => ({ namespace: '', client }), /"namespace"/],
    ['a namespace with braces', () => ({ namespace: 'a{b}', client }), /"namespace"/],
    ['a short secret', () => ({ namespace: 'app', client, secret: 'abc' }), /"secret"/],
    ['opTimeoutMs 0', () => ({ namespace: 'app', client, opTimeoutMs: 0 }), /"opTimeoutMs"/],
    ['flights: true', () => ({ namespace: 'app', client, flights: true }), /"flights"/],
    ['writes: "on"', () => ({ namespace: 'app', client, writes: 'on' }), /"writes"/],
    [
      'a bad flights option',
      () => ({ namespace: 'app', client, flights: { leaseMs: 0 } }),
      /"leaseMs" in DistributedFlight/,
    ],
    [
      'a bad writes option',
      () => ({ namespace: 'app', client, writes: { leaseMs: 1 } }),
      /"leaseMs" in DistributedWriteGroup/,
    ],
    ['client and coordinator', () => ({ namespace: 'app', client, coordinator }), /not both/],
    [
      'opTimeoutMs with a coordinator',
      () => ({ namespace: 'app', coordinator, opTimeoutMs: 100 }),
      /Give it to your adapter/,
    ],
    ['no client', () => ({ namespace: 'app' }), /needs `url` .*`client`/],
    [
      'url and client',
      () => ({ namespace: 'app', url: 'redis://127.0.0.1:1', client }),
      /has `url` and `client`.*Give one of them/,
    ],
    [
      'url and coordinator',
      () => ({ namespace: 'app', url: 'redis://127.0.0.1:1', coordinator }),
      /has `url` and `coordinator`/,
    ],
    [
      'a url that is not a Redis URL',
      () => ({ namespace: 'app', url: 'http://127.0.0.1:6379' }),
      /"url" in SingleflightModule\.forRoot\(\) redis must be a Redis URL/,
    ],
    ['no namespace', () => ({ client }), /needs `namespace`/],
    [
      'a client of no Redis library',
      () => ({ namespace: 'app', client: { get: () => null } }),
      /needs a client of node-redis or ioredis/,
    ],
  ])('fails at start-up with a SingleflightOptionsError: %s', async (_, redis, message) => {
    const failure = start(redis());
    await expect(failure).rejects.toThrow(SingleflightOptionsError);
    await expect(failure).rejects.toThrow(message);
  });

  it.each([
    ['a coordinator that lacks methods', () => ({ namespace: 'app', coordinator: { eval() {} } })],
  ])('fails at start-up with a SingleflightArgumentError: %s', async (_, redis) => {
    await expect(start(redis())).rejects.toThrow(SingleflightArgumentError);
  });
});
