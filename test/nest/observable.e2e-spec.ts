import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Observable, type Subscriber, lastValueFrom, toArray } from 'rxjs';
import { ObservableGroup, SingleFlight, SingleflightModule } from '../../lib/index.js';

/** An upstream the test drives by hand, counting subscriptions and teardowns. */
class Upstream {
  subscriptions = 0;
  teardowns = 0;
  subscriber: Subscriber<number> | undefined;

  observable(): Observable<number> {
    return new Observable<number>((subscriber) => {
      this.subscriptions++;
      this.subscriber = subscriber;
      return () => this.teardowns++;
    });
  }
}

@Injectable()
class FeedService {
  readonly upstream = new Upstream();

  @SingleFlight((room: string) => room)
  feed(room: string): Observable<number> {
    void room;
    return this.upstream.observable();
  }

  // No annotated return type: the first call shows it is an Observable.
  @SingleFlight('inferred')
  inferred() {
    return this.upstream.observable();
  }
}

let app: INestApplication;
let feeds: FeedService;
afterEach(() => app.close());

async function boot() {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    providers: [FeedService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  feeds = app.get(FeedService);
}

describe('@SingleFlight on a method that returns an Observable', () => {
  it.each(['feed', 'inferred'] as const)(
    'shares one upstream; a late subscriber gets the earlier values too (%s)',
    async (method) => {
      await boot();
      const call = () => (method === 'feed' ? feeds.feed('lobby') : feeds.inferred());
      const first = lastValueFrom(call().pipe(toArray()));
      feeds.upstream.subscriber!.next(1);
      feeds.upstream.subscriber!.next(2);
      const late = lastValueFrom(call().pipe(toArray()));
      feeds.upstream.subscriber!.next(3);
      feeds.upstream.subscriber!.complete();
      expect(await first).toEqual([1, 2, 3]);
      expect(await late).toEqual([1, 2, 3]);
      expect(feeds.upstream.subscriptions).toBe(1);
      expect(app.get(ObservableGroup).stats()).toMatchObject({ flights: 1, joins: 1, size: 0 });
    },
  );

  it('is lazy, and tears the upstream down when the last subscriber leaves', async () => {
    await boot();
    const feed = feeds.feed('lobby');
    expect(feeds.upstream.subscriptions).toBe(0);
    const a = feed.subscribe();
    const b = feeds.feed('lobby').subscribe();
    a.unsubscribe();
    expect(feeds.upstream.teardowns).toBe(0);
    b.unsubscribe();
    expect(feeds.upstream.teardowns).toBe(1);
    // The key is free again: the next subscriber starts a new upstream.
    feeds.feed('lobby').subscribe().unsubscribe();
    expect(feeds.upstream.subscriptions).toBe(2);
  });

  it('gives an error to every subscriber, then frees the key', async () => {
    await boot();
    const results = [feeds.feed('lobby'), feeds.feed('lobby')].map((o) => lastValueFrom(o));
    feeds.upstream.subscriber!.error(new Error('upstream failed'));
    for (const result of results) await expect(result).rejects.toThrow('upstream failed');
    const next = lastValueFrom(feeds.feed('lobby'));
    feeds.upstream.subscriber!.next(7);
    feeds.upstream.subscriber!.complete();
    await expect(next).resolves.toBe(7);
    expect(feeds.upstream.subscriptions).toBe(2);
  });

  it('keeps different keys on different upstreams', async () => {
    await boot();
    feeds.feed('a').subscribe();
    feeds.feed('b').subscribe();
    expect(feeds.upstream.subscriptions).toBe(2);
  });
});
