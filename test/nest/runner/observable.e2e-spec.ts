import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Observable, Subject, type Subscriber, lastValueFrom, toArray } from 'rxjs';
import {
  ObservableGroup,
  SingleFlight,
  SingleflightModule,
  type SingleflightModuleOptions,
  SingleflightOptionsError,
} from '../../../lib/index.js';

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

  @SingleFlight((job: string) => job, { replay: Infinity })
  steps(job: string): Observable<number> {
    void job;
    return this.upstream.observable();
  }

  @SingleFlight('live', { replay: 0 })
  live(): Observable<number> {
    return this.upstream.observable();
  }
}

let app: INestApplication;
let feeds: FeedService;
afterEach(() => app.close());

async function boot(options: SingleflightModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot(options)],
    providers: [FeedService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  feeds = app.get(FeedService);
}

/**
 * Subscribes `call()` once, emits 1 and 2, subscribes it again (late), then emits 3 and completes:
 * every value each subscription got.
 */
async function joinLate(call: () => Observable<number>) {
  const first = lastValueFrom(call().pipe(toArray()));
  feeds.upstream.subscriber!.next(1);
  feeds.upstream.subscriber!.next(2);
  const late = lastValueFrom(call().pipe(toArray()));
  feeds.upstream.subscriber!.next(3);
  feeds.upstream.subscriber!.complete();
  return { first: await first, late: await late };
}

describe('@SingleFlight on a method that returns an Observable', () => {
  it.each(['feed', 'inferred'] as const)(
    'shares one upstream; a late subscriber gets the latest earlier value, then the rest (%s)',
    async (method) => {
      await boot();
      const { first, late } = await joinLate(() =>
        method === 'feed' ? feeds.feed('lobby') : feeds.inferred(),
      );
      expect(first).toEqual([1, 2, 3]);
      expect(late).toEqual([2, 3]);
      expect(feeds.upstream.subscriptions).toBe(1);
      expect(app.get(ObservableGroup).stats()).toMatchObject({ flights: 1, joins: 1, size: 0 });
    },
  );

  it.each([
    ['a method’s replay: Infinity', {}, 'steps', [1, 2, 3]],
    ['a method’s replay: 0', {}, 'live', [3]],
    ['the module’s replay: 0', { replay: 0 }, 'feed', [3]],
    ['a method’s own replay over the module’s', { replay: 0 }, 'steps', [1, 2, 3]],
  ] as const)('a late subscriber gets the window of %s', async (_, options, method, expected) => {
    await boot(options);
    const { first, late } = await joinLate(() => feeds[method]('job'));
    expect(first).toEqual([1, 2, 3]);
    expect(late).toEqual(expected);
    expect(feeds.upstream.subscriptions).toBe(1);
  });

  it('the module’s replay is the default of the app’s ObservableGroup', async () => {
    await boot({ replay: 0 });
    const group = app.get(ObservableGroup);
    const source = new Subject<number>();
    group.share$('k', () => source).subscribe();
    source.next(1);
    const late: number[] = [];
    group.share$('k', () => source).subscribe((v) => late.push(v));
    source.next(2);
    expect(late).toEqual([2]);
  });

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

describe('the replay option', () => {
  it('fails the boot on a bad module value, with a named error', async () => {
    for (const replay of [-1, 0.5, Number.NaN, '2']) {
      await expect(boot({ replay } as never)).rejects.toThrow(SingleflightOptionsError);
    }
    await expect(boot({ replay: -1 })).rejects.toThrow(
      /Option "replay" in SingleflightModule.forRoot\(\) must be a whole number of values >= 0/,
    );
  });

  it('fails at class definition on a bad decorator value', () => {
    expect(() => SingleFlight('k', { replay: -1 })).toThrow(
      /Option "replay" in @SingleFlight\(\) options must be a whole number of values >= 0/,
    );
  });

  it('fails at start-up on a method that returns a Promise', async () => {
    @Injectable()
    class Prices {
      @SingleFlight('k', { replay: 5 })
      async price(): Promise<number> {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
      providers: [Prices],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    await expect(nest.init()).rejects.toThrow(
      /Prices\.price sets `replay`, which applies to a method that returns an Observable/,
    );
    await nest.close();
  });
});
