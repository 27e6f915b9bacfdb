import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { bootSample, type SampleApp } from './sample-app.js';

const REGIONS = ['america', 'europe', 'africa', 'asia'];
const TTL_MS = 30_000;

let sample: SampleApp;
beforeAll(async () => {
  // 100-250 ms per backend call; the TTL is the default, crossed by moving the clock.
  sample = await bootSample({ TOKEN_LATENCY_SCALE: '0.05', TOKEN_TTL_MS: String(TTL_MS) });
});
afterAll(async () => {
  jest.restoreAllMocks();
  await sample?.app.close();
});

/** `count` concurrent requests spread over the 4 regions; the tokens each region's callers got. */
async function burst(count: number, business: string): Promise<Map<string, Set<string>>> {
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      request(sample.url).get(`/tokens/${REGIONS[i % REGIONS.length]}/${business}`),
    ),
  );
  const tokens = new Map<string, Set<string>>(REGIONS.map((region) => [region, new Set()]));
  for (const response of responses) {
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      region: expect.any(String),
      business,
      token: expect.any(String),
      issuedAt: expect.any(String),
    });
    tokens.get(response.body.region)!.add(response.body.token);
  }
  return tokens;
}

async function backendCalls(): Promise<{ total: number; byRegion: Record<string, number> }> {
  const stats = await request(sample.url).get('/stats').expect(200);
  return stats.body.backendCalls;
}

describe('GET /tokens/:region/:business with @SingleFlight and a TTL', () => {
  let first: Map<string, Set<string>>;

  it('serves 1000 concurrent requests over 4 regions with 4 backend calls, one token per region', async () => {
    first = await burst(1000, 'acme');
    expect(await backendCalls()).toEqual({
      total: 4,
      byRegion: { america: 1, europe: 1, africa: 1, asia: 1 },
    });
    for (const region of REGIONS) expect(first.get(region)!.size).toBe(1);
    const stats = (await request(sample.url).get('/stats')).body;
    expect(stats.requests.tokens).toBe(1000);
    // Callers that came during a flight joined it; the ones after it read the cache.
    expect(stats.flights.flights).toBe(4);
    expect(stats.flights.joins + stats.cache.hits).toBe(996);
  });

  it('answers the next burst within the TTL from the cache: 0 backend calls, same tokens', async () => {
    const second = await burst(500, 'acme');
    expect((await backendCalls()).total).toBe(4);
    expect(second).toEqual(first);
  });

  it('calls the backend once per region again after the TTL', async () => {
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + TTL_MS + 1);
    const third = await burst(500, 'acme');
    expect(await backendCalls()).toEqual({
      total: 8,
      byRegion: { america: 2, europe: 2, africa: 2, asia: 2 },
    });
    for (const region of REGIONS) {
      expect(third.get(region)!.size).toBe(1);
      expect(third.get(region)).not.toEqual(first.get(region));
    }
  });
});

describe('region names are case-insensitive', () => {
  it('shares one flight and one token among America, AMERICA and america', async () => {
    const before = (await backendCalls()).total;
    const spellings = REGIONS.flatMap((region) => [
      region,
      region.toUpperCase(),
      region[0]!.toUpperCase() + region.slice(1),
    ]);
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        request(sample.url).get(`/tokens/${spellings[i % spellings.length]}/casey`),
      ),
    );
    const tokens = new Map<string, Set<string>>();
    for (const response of responses) {
      expect(response.status).toBe(200);
      const { region, token } = response.body as { region: string; token: string };
      expect(REGIONS).toContain(region);
      tokens.set(region, (tokens.get(region) ?? new Set()).add(token));
    }
    expect([...tokens.values()].map((set) => set.size)).toEqual([1, 1, 1, 1]);
    expect((await backendCalls()).total).toBe(before + 4);
  });
});
