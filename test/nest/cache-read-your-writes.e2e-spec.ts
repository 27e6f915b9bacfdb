import { describe, expect, it, jest } from '@jest/globals';
import { CacheModule } from '@nestjs/cache-manager';
import { Injectable } from '@nestjs/common';
import { Keyv } from 'keyv';
import { KEYS_IN_PROGRESS } from '../../lib/cache/flight-cache.js';
import { FlightCache, Group, SingleFlight } from '../../lib/index.js';
import { type Deferred, deferred, flushMicrotasks } from '../support/deferred.js';
import { type AppSetup, nestApps, warningsOf } from '../support/nest-app.js';
import { until } from '../support/until.js';

/** A backend whose every call waits for the test to answer it. */
@Injectable()
class TokenService {
  readonly calls: Deferred<string>[] = [];

  @SingleFlight((tenant: string) => tenant, { ttl: 60_000 })
  async token(tenant: string): Promise<string> {
    const call = deferred<string>();
    this.calls.push(call);
    return `${tenant}:${await call.promise}`;
  }

  @SingleFlight((tenant: string) => tenant, { ttl: 300, refreshThreshold: 250 })
  async ahead(tenant: string): Promise<string> {
    const call = deferred<string>();
    this.calls.push(call);
    return `${tenant}:${await call.promise}`;
  }
}

const apps = nestApps();

/** Where the values are kept; a new store for every test. */
const setups: [string, () => AppSetup][] = [
  ['the in-memory default', () => ({})],
  ['a Keyv store', () => ({ options: { cache: { stores: [new Keyv()] } } })],
  ["the app's CACHE_MANAGER", () => ({ imports: [CacheModule.register({ isGlobal: true })] })],
];

async function boot(setup: () => AppSetup) {
  const app = await apps([TokenService], [], setup());
  const warnings = warningsOf(app);
  const tokens = app.get(TokenService);
  /** Waits until the backend has been called `n` times in all. */
  const called = (n: number) => until(() => tokens.calls.length === n);
  return { tokens, group: app.get(Group), cache: app.get(FlightCache)!, warnings, called };
}

describe.each(setups)('read-your-writes with %s', (_, setup) => {
  it('group.forget during a cached flight: the next caller runs the work, and its value is cached', async () => {
    const { tokens, group, cache, warnings, called } = await boot(setup);
    const first = tokens.token('acme');
    await called(1);
    group.forget('TokenService.token:acme');
    const second = tokens.token('acme');
    await called(2);
    // The new flight ends first; the old one, which started before the forget, ends last.
    tokens.calls[1]!.resolve('new');
    await expect(second).resolves.toBe('acme:new');
    tokens.calls[0]!.resolve('old');
    await expect(first).resolves.toBe('acme:old');
    await expect(tokens.token('acme')).resolves.toBe('acme:new');
    await expect(cache.stored('TokenService.token:acme')).resolves.toBe('acme:new');
    expect(tokens.calls).toHaveLength(2);
    expect(cache.stats().errors).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('a caller after invalidate() resolved never joins the flight that began before it', async () => {
    const { tokens, cache, warnings, called } = await boot(setup);
    const first = tokens.token('acme');
    await called(1);
    await cache.invalidate('TokenService.token:acme'); // "revoke, then the next call fetches"
    const second = tokens.token('acme');
    await called(2);
    tokens.calls[0]!.resolve('revoked');
    await expect(first).resolves.toBe('acme:revoked');
    tokens.calls[1]!.resolve('fresh');
    await expect(second).resolves.toBe('acme:fresh');
    await expect(tokens.token('acme')).resolves.toBe('acme:fresh');
    expect(tokens.calls).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  it('invalidate() then forget() during one flight: no store error, the next value is cached', async () => {
    const { tokens, group, cache, warnings, called } = await boot(setup);
    const first = tokens.token('acme');
    await called(1);
    await cache.invalidate('TokenService.token:acme');
    group.forget('TokenService.token:acme');
    const second = tokens.token('acme');
    tokens.calls[0]!.resolve('old');
    await expect(first).resolves.toBe('acme:old');
    await called(2);
    tokens.calls[1]!.resolve('new');
    await expect(second).resolves.toBe('acme:new');
    await expect(tokens.token('acme')).resolves.toBe('acme:new');
    expect(tokens.calls).toHaveLength(2);
    expect(cache.stats()).toEqual({ hits: 1, misses: 2, errors: 0 });
    expect(warnings).toEqual([]);
  });

  it('group.forget of a value already cached: the next caller runs the work', async () => {
    const { tokens, group, called } = await boot(setup);
    const first = tokens.token('acme');
    await called(1);
    tokens.calls[0]!.resolve('old');
    await expect(first).resolves.toBe('acme:old');
    await expect(tokens.token('acme')).resolves.toBe('acme:old');
    group.forget('TokenService.token:acme');
    const second = tokens.token('acme');
    await called(2);
    tokens.calls[1]!.resolve('new');
    await expect(second).resolves.toBe('acme:new');
  });

  it('a refresh-ahead that began before invalidate() does not store its value', async () => {
    const { tokens, cache, called } = await boot(setup);
    const first = tokens.ahead('acme');
    await called(1);
    tokens.calls[0]!.resolve('one');
    await expect(first).resolves.toBe('acme:one');
    // Past the threshold at once (250 of 300 ms): the call answers and a refresh starts.
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 100);
    try {
      await expect(tokens.ahead('acme')).resolves.toBe('acme:one');
    } finally {
      clock.mockRestore();
    }
    await called(2);
    await cache.invalidate('TokenService.ahead:acme');
    tokens.calls[1]!.resolve('refreshed too early');
    await until(() => cache[KEYS_IN_PROGRESS] === 0);
    const third = tokens.ahead('acme');
    await called(3);
    tokens.calls[2]!.resolve('after');
    await expect(third).resolves.toBe('acme:after');
  });

  it('a refresh-ahead that fails is logged; the cached value is still answered', async () => {
    const { tokens, cache, warnings, called } = await boot(setup);
    const first = tokens.ahead('acme');
    await called(1);
    tokens.calls[0]!.resolve('one');
    await expect(first).resolves.toBe('acme:one');
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 100);
    try {
      await expect(tokens.ahead('acme')).resolves.toBe('acme:one');
      await called(2);
      tokens.calls[1]!.reject(new Error('auth server down'));
      await until(() => cache[KEYS_IN_PROGRESS] === 0);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/background refresh .* "TokenService.ahead:acme" failed.*down/);
      expect(cache.stats().errors).toBe(0);
      await expect(tokens.ahead('acme')).resolves.toBe('acme:one');
      await called(3); // the next call past the threshold refreshes again
      tokens.calls[2]!.resolve('two');
    } finally {
      clock.mockRestore();
    }
  });

  it('keeps nothing per key once no load runs, after thousands of distinct keys', async () => {
    const { tokens, cache, called } = await boot(setup);
    const loads = Array.from({ length: 500 }, (_, i) => tokens.token(`t${i}`));
    await called(500);
    const invalidated = Array.from({ length: 2000 }, (_, i) =>
      cache.invalidate(`TokenService.token:t${i}`),
    );
    expect(cache[KEYS_IN_PROGRESS]).toBe(2000);
    await Promise.all(invalidated);
    for (const call of tokens.calls) call.resolve('v');
    await Promise.all(loads);
    await flushMicrotasks();
    expect(cache[KEYS_IN_PROGRESS]).toBe(0);
  });
});
