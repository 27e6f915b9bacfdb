import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bootSample, type SampleApp } from './sample-app.js';

const REFUSAL = {
  statusCode: 400,
  error: 'Bad Request',
  message: 'Unsupported region "mars". Supported regions: america, europe, africa, asia.',
  region: 'mars',
  supported: ['america', 'europe', 'africa', 'asia'],
};

let sample: SampleApp;
beforeAll(async () => {
  // The refusal takes 500 ms: long enough for 50 concurrent requests to join one flight.
  sample = await bootSample({ TOKEN_LATENCY_SCALE: '0.5' });
});
afterAll(() => sample?.app.close());

const marsCalls = async () =>
  (await request(sample.url).get('/stats')).body.backendCalls.byRegion.mars as number;

describe('GET /tokens/:region/:business for an unsupported region', () => {
  it('answers 400 naming the region and the supported ones, shared by concurrent callers', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => request(sample.url).get('/tokens/mars/acme')),
    );
    for (const response of responses) {
      expect(response.status).toBe(400);
      expect(response.body).toEqual(REFUSAL);
    }
    expect(await marsCalls()).toBe(1);
  });

  it('never caches the error: the next call asks the backend again', async () => {
    const response = await request(sample.url).get('/tokens/mars/acme');
    expect(response.status).toBe(400);
    expect(response.body).toEqual(REFUSAL);
    expect(await marsCalls()).toBe(2);
  });

  it('refuses the same way without singleflight', async () => {
    const response = await request(sample.url).get('/tokens/mars/acme?singleflight=off');
    expect(response.status).toBe(400);
    expect(response.body).toEqual(REFUSAL);
  });
});
