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
import { type RunInfo, registerScenario } from '../harness.js';

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

async function uniqueCalls(call: Call): Promise<RunInfo> {
  executions = 0;
  const batch = Array.from({ length: BATCH }, () => RESOLVED);
  for (let i = 0; i < CALLS; i += BATCH) {
    for (let j = 0; j < BATCH; j++) batch[j] = call(uniqueIds[i + j]!);
    await Promise.all(batch);
  }
  return { check: { ok: executions === CALLS, text: `${executions} executions` } };
}

registerScenario({
  id: 'NEST',
  title: '200k unique keys through a decorated method vs Group.do in the method',
  unit: 'ns',
  per: 'call',
  ops: CALLS,
  contenders: [
    { name: 'Group.do by hand', run: () => uniqueCalls((id) => users.viaGroup(id)) },
    {
      name: '@SingleFlight(keyFn)',
      run: () => uniqueCalls((id) => users.viaDecorator(id)),
      target: { kind: 'ratio', max: 1.2 },
    },
    {
      name: '@SingleFlight() default key',
      run: () => uniqueCalls((id) => users.viaDefaultKey(id)),
    },
  ],
});

/** Each run gets keys of its own, so every contender starts cold: 100 misses, then hits. */
let generation = 0;

async function hotCalls(call: Call): Promise<RunInfo> {
  executions = 0;
  const ids = Array.from({ length: HOT_KEYS }, (_, k) => `${generation}:${k}`);
  generation++;
  const batch = Array.from({ length: BATCH }, () => RESOLVED);
  for (let i = 0; i < CALLS; i += BATCH) {
    for (let j = 0; j < BATCH; j++) batch[j] = call(ids[(i + j) % HOT_KEYS]!);
    await Promise.all(batch);
  }
  // The first batch holds every key: a correct cache runs each once, misses sharing a flight.
  const ok = executions === HOT_KEYS;
  return { check: { ok, text: `${executions} executions (expected ${HOT_KEYS})` } };
}

registerScenario({
  id: 'D',
  title: `${CALLS / 1000}k cached calls over ${HOT_KEYS} keys (default in-memory cache)`,
  unit: 'ns',
  per: 'call',
  ops: CALLS,
  contenders: [
    { name: 'Map cache by hand', run: () => hotCalls((id) => users.viaMap(id)) },
    {
      name: '@SingleFlight({ ttl })',
      run: () => hotCalls((id) => users.viaCachedDecorator(id)),
      target: { kind: 'ratio', max: 2.0 },
    },
    { name: 'cache-manager wrap()', run: () => hotCalls((id) => users.viaWrap(id)) },
  ],
});
