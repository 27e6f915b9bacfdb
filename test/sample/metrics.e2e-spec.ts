import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bootSample, type SampleApp } from './sample-app.js';

const REGIONS = ['america', 'europe', 'africa', 'asia'];

let sample: SampleApp;
beforeAll(async () => {
  // 100-250 ms per backend call, 5-50 ms per downstream push.
  sample = await bootSample({ TOKEN_LATENCY_SCALE: '0.05', PUSH_LATENCY_SCALE: '0.1' });
});
afterAll(() => sample?.app.close());

/** A sample's value in the scraped text (undefined when the series does not exist). */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('serves the singleflight metrics of a token burst in the Prometheus text format', async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        request(sample.url).get(`/tokens/${REGIONS[i % REGIONS.length]}/metrics-co`),
      ),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);

    const scrape = await request(sample.url).get('/metrics').expect(200);
    // Express orders the parameters its own way (Nest 11 and 12 differ).
    const type = scrape.headers['content-type']!.split(';').map((part: string) => part.trim());
    expect(type.sort()).toEqual(['charset=utf-8', 'text/plain', 'version=0.0.4']);
    const text = scrape.text;
    const method = 'method="TokenService.getToken"';
    expect(text).toContain(`singleflight_calls_total{${method}} 200`);
    expect(text).toContain('# TYPE singleflight_flight_duration_seconds histogram');
    // One backend call per region; the other callers joined those flights or read the cache.
    expect(valueOf(text, `singleflight_flights_total{${method}}`)).toBe(4);
    expect(valueOf(text, `singleflight_cache_misses_total{${method}}`)).toBe(4);
    expect(valueOf(text, `singleflight_flight_duration_seconds_count{${method}}`)).toBe(4);
    const joins = valueOf(text, `singleflight_joins_total{${method}}`) ?? 0;
    const hits = valueOf(text, `singleflight_cache_hits_total{${method}}`) ?? 0;
    expect(joins + hits).toBe(196);
    // Labels name the method, never a key (the region and business are in the keys).
    expect(text).not.toMatch(/america|metrics-co/);
  });

  it('counts the @MergeWrites pushes of an event burst: every call ran or was coalesced', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(sample.url)
          .post('/events/metrics-key?wait=true')
          .send({ version: i + 1 }),
      ),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const text = (await request(sample.url).get('/metrics').expect(200)).text;
    const method = 'method="PushService.push"';
    expect(valueOf(text, `singleflight_calls_total{${method}}`)).toBe(20);
    const runs = valueOf(text, `singleflight_write_runs_total{${method}}`) ?? 0;
    const coalesced = valueOf(text, `singleflight_write_coalesced_total{${method}}`) ?? 0;
    expect(runs + coalesced).toBe(20);
    expect(runs).toBeLessThan(20);
    expect(valueOf(text, `singleflight_write_duration_seconds_count{${method}}`)).toBe(runs);
  });
});
