import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Keyv } from 'keyv';
import { FlightCache, SingleFlight, type SingleflightModuleOptions } from '../../lib/index.js';
import { nestApps, warningsOf } from '../support/nest-app.js';

/** A value that says how long it may be cached, as a token's expiry does. */
interface Expiring {
  run: number;
  ttl: unknown;
}

const ttlOf = (token: Expiring) => {
  if (token.ttl === 'throw') throw new Error('no expiry');
  return token.ttl as number;
};

@Injectable()
class Tokens {
  runs = 0;
  ttl: unknown = 60_000;

  @SingleFlight('token', { ttl: ttlOf })
  async token(): Promise<Expiring> {
    return { run: ++this.runs, ttl: this.ttl };
  }

  @SingleFlight('other', { ttl: ttlOf })
  async other(): Promise<Expiring> {
    return { run: ++this.runs, ttl: this.ttl };
  }

  @SingleFlight('long', { ttl: 2 ** 31 })
  async long(): Promise<number> {
    return ++this.runs;
  }
}

const apps = nestApps();

async function boot(options: SingleflightModuleOptions) {
  const app = await apps([Tokens], [], { options });
  const warnings = warningsOf(app);
  return { tokens: app.get(Tokens), cache: app.get(FlightCache)!, warnings };
}

/** Lets a timer of `ms` fire first, e.g. one that overflowed to 1 ms. */
const afterTimers = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stores: [string, () => SingleflightModuleOptions][] = [
  ['the in-memory default', () => ({})],
  ['a Keyv store', () => ({ cache: { stores: [new Keyv()] } })],
];

describe.each(stores)('a ttl function of the value, with %s', (_, options) => {
  it.each([0, -1, -Infinity])(
    '%s: not cached, as a static ttl of 0, and no warning',
    async (ttl) => {
      const { tokens, warnings } = await boot(options());
      tokens.ttl = ttl;
      await tokens.token();
      await expect(tokens.token()).resolves.toEqual({ run: 2, ttl });
      expect(warnings).toEqual([]);
    },
  );

  it.each([NaN, undefined, '60000', Infinity, null])(
    '%s: not cached, and one warning that names the method, not one per call',
    async (ttl) => {
      const { tokens, cache, warnings } = await boot(options());
      tokens.ttl = ttl;
      await tokens.token();
      await tokens.token();
      await expect(tokens.token()).resolves.toEqual({ run: 3, ttl });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('The ttl of key "Tokens.token:token" is');
      expect(warnings[0]).toContain('so the value was not cached');
      expect(cache.stats().errors).toBe(0);
      // Another method with the same fault gets its own warning.
      await tokens.other();
      expect(warnings).toHaveLength(2);
      expect(warnings[1]).toContain('"Tokens.other:other"');
    },
  );

  it('a ttl function that throws: the call answers, the value is not cached, one warning', async () => {
    const { tokens, cache, warnings } = await boot(options());
    tokens.ttl = 'throw';
    await expect(tokens.token()).resolves.toEqual({ run: 1, ttl: 'throw' });
    await expect(tokens.token()).resolves.toEqual({ run: 2, ttl: 'throw' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /ttl or shouldCache function of key "Tokens.token:token" threw.*no expiry/,
    );
    expect(cache.stats().errors).toBe(0);
  });

  it('2^31 ms and more, static or returned: kept, with its expiry (no timer overflows to 1 ms)', async () => {
    const { tokens, cache } = await boot(options());
    tokens.ttl = 2 ** 32;
    const before = Date.now();
    await tokens.token();
    await tokens.long();
    await afterTimers(5);
    await expect(tokens.token()).resolves.toEqual({ run: 1, ttl: 2 ** 32 });
    await expect(tokens.long()).resolves.toBe(2);
    const expires = await cache.cache.ttl('Tokens.token:token#sf1');
    expect(expires).toBeGreaterThanOrEqual(before + 2 ** 32);
    expect(await cache.cache.ttl('Tokens.long:long#sf1')).toBeGreaterThanOrEqual(before + 2 ** 31);
  });
});
