import { describe, expect, it } from '@jest/globals';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { isCache, isKeyv } from '../../lib/cache/cache-options.js';

// FlightCache and the module take a cache-manager Cache and Keyv stores by their shape, so that
// two copies of cache-manager or keyv in one app (each package with its own) still work.
describe('cache-manager and Keyv, recognized by shape', () => {
  it('takes a real cache-manager 7 Cache, with the default store or given Keyv stores', () => {
    expect(isCache(createCache())).toBe(true);
    expect(isCache(createCache({ stores: [new Keyv(), new Keyv()] }))).toBe(true);
    expect(isKeyv(new Keyv())).toBe(true);
  });

  it('refuses a Keyv for a Cache, a Cache for a Keyv, and plain look-alikes without stores', () => {
    const cache = createCache();
    expect(isCache(new Keyv())).toBe(false);
    expect(isKeyv(cache)).toBe(false);
    expect(isCache({ get() {}, set() {}, del() {}, stores: [] })).toBe(false);
    expect(isCache({ get() {}, set() {}, del() {}, stores: [{}] })).toBe(false);
    expect(isCache(new Map())).toBe(false);
    expect(isCache(null)).toBe(false);
  });
});
