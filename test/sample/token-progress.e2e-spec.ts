import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bootSample, type SampleApp } from './sample-app.js';

let sample: SampleApp;
beforeAll(async () => {
  // asia takes 1 s: long enough for 50 concurrent requests to subscribe to one upstream.
  sample = await bootSample({ TOKEN_LATENCY_SCALE: '0.5' });
});
afterAll(() => sample?.app.close());

describe('GET /tokens/:region/:business/progress (an Observable with @SingleFlight)', () => {
  it('gives concurrent subscribers one upstream subscription and the same token', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => request(sample.url).get('/tokens/asia/acme/progress')),
    );
    for (const response of responses) expect(response.status).toBe(200);
    const bodies = responses.map((response) => response.body as { status: string }[]);
    // The first subscriber got every value: the longest body.
    const all = bodies.reduce((longest, body) => (body.length > longest.length ? body : longest));
    expect(all.at(-1)).toMatchObject({ status: 'issued', region: 'asia', business: 'acme' });
    expect(all.filter((value) => value.status === 'waiting').length).toBeGreaterThan(0);
    // A later subscriber got the latest value before it joined (replay: 1), then every later one:
    // the same values from one point on, the token last.
    for (const body of bodies) {
      expect(body.length).toBeGreaterThan(0);
      expect(body).toEqual(all.slice(all.length - body.length));
    }
    const stats = (await request(sample.url).get('/stats')).body;
    expect(stats.observables).toMatchObject({ upstreamSubscriptions: 1, flights: 1, joins: 49 });
    expect(stats.backendCalls.byRegion).toEqual({ asia: 1 });
  });

  it('starts a new upstream once the previous one has completed', async () => {
    const response = await request(sample.url).get('/tokens/asia/acme/progress').expect(200);
    expect(response.body.at(-1).status).toBe('issued');
    const stats = (await request(sample.url).get('/stats')).body;
    expect(stats.observables.upstreamSubscriptions).toBe(2);
  });

  it('fails with the 400 of an unsupported region', async () => {
    const response = await request(sample.url).get('/tokens/mars/acme/progress');
    expect(response.status).toBe(400);
    expect(response.body.region).toBe('mars');
  });
});
