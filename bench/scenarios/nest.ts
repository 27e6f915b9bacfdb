/**
 * The decorators against what a user would write by hand, in a real Nest application context.
 *
 *   NEST  200k calls, each its own key: `@SingleFlight(keyFn)` against the same method calling
 *         `Group.do` itself with the user's key and work (the cost of the decorator).
 *   D     200k calls over 100 keys through `@SingleFlight({ ttl })` with the module's default
 *         in-memory cache: nearly all are cache hits. Against a bare Map cache written by hand, and,
 *         for reference, cache-manager's own `wrap()` on the same workload.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createCache } from 'cache-manager';
import { Group, SingleFlight, SingleflightModule } from '../../lib/index.js';
import { ownCopy } from '../driver.js';
import { type Contender, type Target, registerScenario } from '../harness.js';

const BATCH = 1000;
const CALLS = 200_000;
const HOT_KEYS = 100;
const TTL = 3_600_000;
const RESOLVED = Promise.resolve(1);

let executions = 0;

@Injectable()
class UserService {
  /** A hand-written cache of promises: what D compares with (no expiry, errors kept). */
  readonly #map = new Map<string, Promise<number>>();
  readonly #wrapCache = createCache();

  constructor(private readonly group: Group) {}

  load(_id: string): Promise<number> {
    executions++;
    return RESOLVED;
  }

  viaGroup(id: string): Promise<number> {
    return this.group.do(`user:${id}`, () => this.load(id));
  }

  @SingleFlight((id: string) => `user:${id}`)
  viaDecorator(id: string): Promise<number> {
    return this.load(id);
  }

  @SingleFlight()
  viaDefaultKey(id: string): Promise<number> {
    return this.load(id);
  }

  viaMap(id: string): Promise<number> {
    let promise = this.#map.get(id);
    if (promise === undefined) this.#map.set(id, (promise = this.load(id)));
    return promise;
  }

  @SingleFlight((id: string) => id, { ttl: TTL })
  viaCachedDecorator(id: string): Promise<number> {
    return this.load(id);
  }

  viaWrap(id: string): Promise<number> {
    return this.#wrapCache.wrap(id, () => this.load(id), TTL);
  }
}

@Module({ imports: [SingleflightModule.forRoot()], providers: [UserService] })
class BenchModule {}

const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
const users = app.get(UserService);

type Call = (id: string) => Promise<number>;

const uniqueIds = Array.from({ length: CALLS }, (_, i) => String(i));

/**
 * Driver: `count` calls of `call`, on `ids` round robin, `batch` concurrent calls at a time.
 * Copied per contender (bench/driver.ts): parameters only.
 */
async function batchedCalls(
  call: Call,
  ids: readonly string[],
  count: number,
  batch: number,
): Promise<void> {
  const pending: Promise<number>[] = [];
  for (let j = 0; j < batch; j++) pending.push(Promise.resolve(0));
  for (let i = 0; i < count; i += batch) {
    for (let j = 0; j < batch; j++) pending[j] = call(ids[(i + j) % ids.length]!);
    await Promise.all(pending);
  }
}

/**
 * A contender whose run makes 200k calls (a warm-up share: fewer) on `ids()` round robin, with
 * its own copy of the driver; the check: the method ran `expected(calls)` times.
 */
function contender(
  name: string,
  call: Call,
  ids: () => readonly string[],
  expected: (calls: number) => number,
  target?: Target,
): Contender {
  const drive = ownCopy(batchedCalls);
  return {
    name,
    target,
    async run(share) {
      executions = 0;
      const count = Math.max(1, Math.round((share * CALLS) / BATCH)) * BATCH;
      await drive(call, ids(), count, BATCH);
      const want = expected(count);
      return {
        check: { ok: executions === want, text: `${executions} executions (expected ${want})` },
      };
    },
  };
}

/** Every call its own key. */
const unique = (name: string, call: Call, target?: Target) =>
  contender(
    name,
    call,
    () => uniqueIds,
    (calls) => calls,
    target,
  );

registerScenario({
  id: 'NEST',
  title: '200k unique keys through a decorated method vs Group.do in the method',
  unit: 'ns',
  per: 'call',
  ops: CALLS,
  contenders: [
    unique('Group.do by hand', (id) => users.viaGroup(id)),
    unique('@SingleFlight(keyFn)', (id) => users.viaDecorator(id), { kind: 'ratio', max: 1.2 }),
    unique('@SingleFlight() default key', (id) => users.viaDefaultKey(id)),
  ],
});

/** Each run gets keys of its own, so every contender starts cold: 100 misses, then hits. */
let generation = 0;

/**
 * 100 keys of its own per run. The first batch holds every key: a correct cache runs each once,
 * misses sharing a flight.
 */
const hot = (name: string, call: Call, target?: Target) =>
  contender(
    name,
    call,
    () => {
      const run = generation++;
      return Array.from({ length: HOT_KEYS }, (_, k) => `${run}:${k}`);
    },
    () => HOT_KEYS,
    target,
  );

registerScenario({
  id: 'D',
  title: `${CALLS / 1000}k cached calls over ${HOT_KEYS} keys (default in-memory cache)`,
  unit: 'ns',
  per: 'call',
  ops: CALLS,
  contenders: [
    hot('Map cache by hand', (id) => users.viaMap(id)),
    hot('@SingleFlight({ ttl })', (id) => users.viaCachedDecorator(id), {
      kind: 'ratio',
      max: 2.0,
    }),
    hot('cache-manager wrap()', (id) => users.viaWrap(id)),
  ],
});
