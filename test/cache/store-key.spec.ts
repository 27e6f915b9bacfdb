import { describe, expect, it } from '@jest/globals';
import { createCache } from 'cache-manager';
import fc from 'fast-check';
import { Keyv } from 'keyv';
import { FlightCache } from '../../lib/cache/flight-cache.js';
import { STORE_KEY_VERSION, storeKey } from '../../lib/cache/store-key.js';

/** What a store that keeps its keys as UTF-8 (Redis, a file) makes of a key. */
const utf8 = (key: string) => Buffer.from(key, 'utf8').toString('utf8');

/** A Keyv store that keeps its keys as UTF-8: every lone surrogate becomes U+FFFD, as in Redis. */
class Utf8Map extends Map<string, unknown> {
  override get(key: string) {
    return super.get(utf8(key));
  }
  override set(key: string, value: unknown) {
    return super.set(utf8(key), value);
  }
  override has(key: string) {
    return super.has(utf8(key));
  }
  override delete(key: string) {
    return super.delete(utf8(key));
  }
}

describe('storeKey', () => {
  it('escapes injectively into well-formed text, and leaves other keys as they are, versioned (property)', () => {
    const unit = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ufffd', 'f', '0', 'a');
    const text = fc.oneof(fc.string({ unit }), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const [ea, eb] = [storeKey(a), storeKey(b)];
        expect(utf8(ea)).toBe(ea);
        if (a !== b) expect(Buffer.from(ea, 'utf8').equals(Buffer.from(eb, 'utf8'))).toBe(false);
        if (!/[\ufffd\ud800-\udfff]/.test(a)) expect(ea).toBe(`${a}${STORE_KEY_VERSION}`);
      }),
      { seed: 1212, numRuns: 2000 },
    );
  });

  it('writes U+FFFD twice, a lone surrogate as U+FFFD and its hex digits, and keeps a pair', () => {
    expect(storeKey('user\ufffd')).toBe('user\ufffd\ufffd#sf1');
    expect(storeKey('user\ud800')).toBe('user\ufffdd800#sf1');
    expect(storeKey('\udc00user')).toBe('\ufffddc00user#sf1');
    expect(storeKey('user\ud83d\ude00')).toBe('user\ud83d\ude00#sf1');
  });

  it('gives keys that differ only in lone surrogates their own values in a UTF-8 store', async () => {
    const store = new Utf8Map();
    const cache = new FlightCache(createCache({ stores: [new Keyv({ store })] }));
    const keys = ['user\ud800', 'user\udbff', 'user\ufffd', 'user\ufffdd800'];
    for (const key of keys)
      await cache.load(key, async () => `value of ${JSON.stringify(key)}`, { ttl: 60_000 });
    expect(store.size).toBe(keys.length);
    for (const key of keys) {
      const value = await cache.load(key, async () => 'ran again', { ttl: 60_000 });
      expect(value).toBe(`value of ${JSON.stringify(key)}`);
    }
  });
});
