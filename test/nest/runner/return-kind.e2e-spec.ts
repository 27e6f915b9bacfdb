import { describe, expect, it } from '@jest/globals';
import { Controller, ForbiddenException, Get, Injectable, Param } from '@nestjs/common';
import { Observable, type Subscriber, lastValueFrom, toArray } from 'rxjs';
import request from 'supertest';
import { Group, SingleFlight } from '../../../lib/index.js';
import { deferred } from '../../support/deferred.js';
import { nestApps } from '../../support/nest-app.js';
import { until } from '../../support/until.js';

// When `design:returntype` does not say what a method returns, its first result decides. A first
// call that throws before returning anything decides nothing: the caller gets the error, and
// later calls still share flights. Metadata that says `Function` (a return type imported with
// `import type`) pins nothing down either.

const boot = nestApps();

/** No return type annotated: it throws for a forbidden id, else returns a Promise. */
@Injectable()
class Documents {
  runs = 0;
  readonly gate = deferred();

  @SingleFlight()
  load(id: string) {
    if (id === 'secret') throw new ForbiddenException(`no access to ${id}`);
    this.runs++;
    return this.gate.promise.then(() => ({ id, run: this.runs }));
  }
}

@Controller('documents')
class DocumentsController {
  runs = 0;
  readonly gate = deferred();

  @Get(':id')
  @SingleFlight()
  find(@Param('id') id: string) {
    if (id === 'secret') throw new ForbiddenException(`no access to ${id}`);
    this.runs++;
    return this.gate.promise.then(() => ({ id, run: this.runs }));
  }
}

describe('a method with no return type that throws synchronously on its first call', () => {
  it('throws to its caller, and later calls still share one flight', async () => {
    expect(Reflect.getMetadata('design:returntype', Documents.prototype, 'load')).toBeUndefined();
    const documents = (await boot([Documents])).get(Documents);
    expect(() => documents.load('secret')).toThrow(new ForbiddenException('no access to secret'));
    const calls = Array.from({ length: 10 }, () => documents.load('report'));
    documents.gate.resolve();
    const results = await Promise.all(calls);
    expect(documents.runs).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r)))).toEqual(
      new Set([JSON.stringify({ id: 'report', run: 1 })]),
    );
  });

  it('answers 403 over HTTP, and 10 concurrent requests after it run once', async () => {
    const nest = await boot([], [DocumentsController]);
    await nest.listen(0, '127.0.0.1');
    const url = await nest.getUrl();
    const forbidden = await request(url).get('/documents/secret');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ statusCode: 403, message: 'no access to secret' });

    const controller = nest.get(DocumentsController);
    const responses = Promise.all(
      Array.from({ length: 10 }, () => request(url).get('/documents/report')),
    );
    await until(() => nest.get(Group).stats().calls === 11);
    controller.gate.resolve();
    const done = await responses;
    expect(controller.runs).toBe(1);
    expect(done.every((r) => r.status === 200 && r.body.run === 1)).toBe(true);
  });
});

describe('a method whose `design:returntype` is Function (its type imported with `import type`)', () => {
  it('is defined without error, and its first result shows it returns an Observable', async () => {
    const subscribers: Subscriber<number>[] = [];
    @Injectable()
    class Feed {
      @SingleFlight('lobby')
      @Reflect.metadata('design:returntype', Function)
      stream(): Observable<number> {
        return new Observable<number>((subscriber) => {
          subscribers.push(subscriber);
        });
      }
    }
    expect(Reflect.getMetadata('design:returntype', Feed.prototype, 'stream')).toBe(Function);
    const feed = (await boot([Feed])).get(Feed);
    const first = feed.stream();
    expect(first).toBeInstanceOf(Observable);
    const values = [first, feed.stream(), feed.stream()].map((o) =>
      lastValueFrom(o.pipe(toArray())),
    );
    expect(subscribers).toHaveLength(1);
    subscribers[0]!.next(1);
    subscribers[0]!.next(2);
    subscribers[0]!.complete();
    expect(await Promise.all(values)).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
  });
});
