import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import request from 'supertest';
import { DOWNSTREAM_RANDOM } from '../../sample/events/downstream.js';
import { prng } from '../support/prng.js';
import { bootSample, type SampleApp } from './sample-app.js';

// Seeded, so the downstream's latencies repeat from run to run.
let next = prng(1);
let sample: SampleApp;
beforeAll(async () => {
  // Pushes take 275-500 ms (the upper half of the range), so a burst of concurrent POSTs lands
  // while the first push runs.
  sample = await bootSample({ PUSH_LATENCY_SCALE: '1' }, (builder) =>
    builder.overrideProvider(DOWNSTREAM_RANDOM).useValue(() => 0.5 + next() / 2),
  );
});
afterAll(() => sample?.app.close());

interface View {
  state: { version: number; data: unknown } | null;
  pushes: number;
  events: number;
  latestVersion: number;
  pending: boolean;
  overlaps: number;
}

async function settled(key: string): Promise<View> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const view = (await request(sample.url).get(`/events/${key}`).expect(200)).body as View;
    if (!view.pending) return view;
    if (Date.now() > deadline) throw new Error(`pushes of "${key}" did not settle`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('POST /events/:key with @MergeWrites', () => {
  it('answers 202 at once, or 200 after the push with ?wait=true', async () => {
    await request(sample.url).post('/events/one').send({ version: 1, data: 'a' }).expect(202, {
      key: 'one',
      version: 1,
      events: 1,
    });
    const waited = await request(sample.url)
      .post('/events/one?wait=true')
      .send({ version: 2, data: 'b' })
      .expect(200);
    expect(waited.body.pushed).toEqual({ version: 2, data: 'b' });
    expect(await settled('one')).toMatchObject({
      state: { version: 2, data: 'b' },
      events: 2,
      pushes: 2,
      overlaps: 0,
    });
  });

  it('rejects a body without a numeric version and answers 404 for an unknown key', async () => {
    await request(sample.url).post('/events/bad').send({ data: 1 }).expect(400);
    await request(sample.url).get('/events/nothing').expect(404);
  });

  it('ends a random burst with the newest version, without overlaps, in at most 2 pushes', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        async (versions, downstreamSeed) => {
          next = prng(downstreamSeed);
          const key = `burst-${++run}`;
          // Concurrent POSTs: they may reach the app in any order; the highest version wins.
          const posted = await Promise.all(
            versions.map((version) =>
              request(sample.url)
                .post(`/events/${key}`)
                .send({ version, data: `v${version}` }),
            ),
          );
          expect(posted.every((response) => response.status === 202)).toBe(true);
          const newest = Math.max(...versions);
          const view = await settled(key);
          expect(view).toMatchObject({
            state: { version: newest, data: `v${newest}` },
            events: versions.length,
            latestVersion: newest,
            overlaps: 0,
          });
          // One push for the first event, one follow-up for all that came during it.
          expect(view.pushes).toBeGreaterThanOrEqual(1);
          expect(view.pushes).toBeLessThanOrEqual(Math.min(2, versions.length));
        },
      ),
      { seed: 20261122, numRuns: 5 },
    );
  }, 15_000);
});
