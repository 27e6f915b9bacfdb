import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { bootSample } from './sample-app.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
  delete process.env.REDIS_URL;
});

describe('the sample with REDIS_URL, shut down', () => {
  it('closes without a warning: the library stops before the sample closes its client', async () => {
    const { app, url } = await bootSample({ TOKEN_LATENCY_SCALE: '0.01', REDIS_URL: server.url });
    const warnings: string[] = [];
    app.useLogger({
      log: () => undefined,
      error: (message: string) => warnings.push(`error: ${message}`),
      warn: (message: string) => warnings.push(message),
    });
    // A flight has gone through Redis: the engines are subscribed and in use.
    await request(url).get('/tokens/europe/acme').expect(200);
    await app.close();
    expect(warnings).toEqual([]);
  });
});
