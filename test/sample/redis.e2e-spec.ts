import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { bootSample, type SampleApp } from './sample-app.js';

const REGIONS = ['america', 'europe', 'africa', 'asia'];

let server: RedisServer;
const instances: SampleApp[] = [];
beforeAll(async () => {
  server = await startRedis();
  const env = { TOKEN_LATENCY_SCALE: '0.05', REDIS_URL: server.url };
  // Two instances of the sample in one process, as two pods behind one load balancer.
  instances.push(await bootSample(env), await bootSample(env));
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.app.close()));
  await server?.stop();
  delete process.env.REDIS_URL;
});

async function backendCalls(): Promise<number> {
  const totals = await Promise.all(
    instances.map(async (i) => (await request(i.url).get('/stats').expect(200)).body.backendCalls),
  );
  return totals.reduce((sum, calls) => sum + calls.total, 0);
}

describe('the sample with REDIS_URL: two instances', () => {
  it('share one backend call per region for a burst spread over both', async () => {
    const responses = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        request(instances[i % 2]!.url).get(`/tokens/${REGIONS[i % 4]}/fleet`),
      ),
    );
    const tokens = new Map<string, Set<string>>();
    for (const response of responses) {
      expect(response.status).toBe(200);
      const seen = tokens.get(response.body.region) ?? new Set();
      tokens.set(response.body.region, seen.add(response.body.token));
    }
    expect([...tokens.values()].map((seen) => seen.size)).toEqual([1, 1, 1, 1]);
    expect(await backendCalls()).toBe(4);
  });

  it('serves a token cached by one instance from the other, through Redis', async () => {
    const first = await request(instances[0]!.url).get('/tokens/asia/shared').expect(200);
    const second = await request(instances[1]!.url).get('/tokens/asia/shared').expect(200);
    expect(second.body.token).toBe(first.body.token);
    expect(await backendCalls()).toBe(5);
  });
});
