import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import { createClient } from 'redis';
import { FlightCache, SingleFlight, SingleflightModule } from '../../lib/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

// A Redis store keeps keys as UTF-8, which turns every lone surrogate into U+FFFD: before the
// store key escaped them, `user\ud800` was answered the value cached for `user\ufffd`.

let server: RedisServer;
let close: (() => Promise<void>) | undefined;
beforeAll(async () => {
  server = await startRedis();
});
afterEach(async () => {
  await close?.();
  close = undefined;
});
afterAll(async () => {
  await server?.stop();
});

const calls: string[] = [];

@Injectable()
class Users {
  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async get(id: string): Promise<string> {
    calls.push(id);
    return `profile of ${JSON.stringify(id)}`;
  }
}

/** An app whose cache is a Keyv store on the real redis-server. */
async function appWithRedisStore(): Promise<INestApplication> {
  const client = createClient({ url: server.url, disableOfflineQueue: true });
  await client.connect();
  const moduleRef = await Test.createTestingModule({
    imports: [
      SingleflightModule.forRoot({
        cache: { stores: [new Keyv({ store: new KeyvRedis(client as never) })] },
      }),
    ],
    providers: [Users],
  }).compile();
  const nest = moduleRef.createNestApplication({ logger: false });
  close = async () => {
    await nest.close();
    client.destroy();
  };
  await nest.init();
  return nest;
}

const KEYS = ['user\ufffd', 'user\ud800', 'user\udbff', 'user\udc00', 'user\ufffd\ufffd'];

describe('cache keys in a store that keeps UTF-8 (Redis)', () => {
  it('keys that differ only in lone surrogates or U+FFFD each get their own value', async () => {
    calls.length = 0;
    // A fresh app each round: its local mirror is empty, so every answer comes from Redis.
    for (let round = 0; round < 2; round++) {
      if (round > 0) await close!();
      const users = (await appWithRedisStore()).get(Users);
      for (const key of KEYS)
        expect(await users.get(key)).toBe(`profile of ${JSON.stringify(key)}`);
    }
    // Each key ran once; the second round was answered by the store.
    expect(calls).toEqual(KEYS);
  });

  it('invalidate() of a key with a lone surrogate drops its value from the store', async () => {
    const nest = await appWithRedisStore();
    calls.length = 0;
    const users = nest.get(Users);
    await users.get('fresh\ud800');
    await nest.get(FlightCache).invalidate('Users.get:fresh\ud800');
    await users.get('fresh\ud800');
    expect(calls).toEqual(['fresh\ud800', 'fresh\ud800']);
  });
});
