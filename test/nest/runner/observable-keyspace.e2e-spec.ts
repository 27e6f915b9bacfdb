import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Observable, Subject } from 'rxjs';
import { ObservableGroup, SingleFlight, SingleflightModule } from '../../../lib/index.js';

/** A feed whose upstream is a Subject the test drives; each subscription of it counts. */
@Injectable()
class Feed {
  readonly upstream = new Subject<string>();
  subscriptions = 0;

  @SingleFlight('eu')
  prices(): Observable<string> {
    this.subscriptions++;
    return this.upstream;
  }
}

let app: INestApplication;
let feed: Feed;
let observables: ObservableGroup;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    providers: [Feed],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  feed = app.get(Feed);
  observables = app.get(ObservableGroup);
});
afterAll(() => app.close());

/** A direct share$ of the decorated method's whole key, with a source of its own. */
function direct(): { values: string[]; source: Subject<string>; stop: () => void } {
  const source = new Subject<string>();
  const values: string[] = [];
  const subscription = observables
    .share$('Feed.prices:eu', () => source)
    .subscribe((value) => values.push(value));
  return { values, source, stop: () => subscription.unsubscribe() };
}

describe("a decorated Observable method's flights in the app's ObservableGroup", () => {
  it('are kept apart from direct share$ calls of the same key, either way round', () => {
    const fromMethod: string[] = [];
    const method = feed.prices().subscribe((value) => fromMethod.push(value));
    const first = direct();
    feed.upstream.next('method value');
    first.source.next('direct value');
    expect(fromMethod).toEqual(['method value']);
    expect(first.values).toEqual(['direct value']);

    // The other way round: a direct flight runs first, then the method is called.
    method.unsubscribe();
    first.stop();
    const second = direct();
    const later: string[] = [];
    const again = feed.prices().subscribe((value) => later.push(value));
    second.source.next('direct again');
    feed.upstream.next('method again');
    expect(later).toEqual(['method again']);
    expect(second.values).toEqual(['direct again']);
    expect(feed.subscriptions).toBe(2);
    second.stop();
    again.unsubscribe();
    expect(observables.stats().size).toBe(0);
  });
});
