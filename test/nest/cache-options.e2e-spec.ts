import { describe, expect, it } from '@jest/globals';
import { Keyv } from 'keyv';
import {
  FlightCache,
  type SingleflightModuleOptions,
  SingleflightOptionsError,
} from '../../lib/index.js';
import { nestApps } from '../support/nest-app.js';

const apps = nestApps();
const boot = (options: SingleflightModuleOptions) => apps([], [], { options });

describe('forRoot({ cache }) checked at start-up', () => {
  it.each<[string, unknown, RegExp]>([
    ['true', true, /Option "cache" in SingleflightModule.forRoot\(\) must be false or/],
    ['null', null, /Option "cache" in SingleflightModule.forRoot\(\) must be false or/],
    ['an array', [new Keyv()], /Option "cache" .* must be false or/],
    [
      'stores: [1]',
      { stores: [1] },
      /Option "stores" in SingleflightModule.forRoot\(\) cache must be a non-empty array of Keyv instances.*got 1/,
    ],
    ['stores: []', { stores: [] }, /Option "stores" .* cache must be a non-empty array of Keyv/],
    [
      'stores: a Keyv',
      { stores: new Keyv() },
      /Option "stores" .* cache must be a non-empty array/,
    ],
    [
      'stores: [a Map]',
      { stores: [new Map()] },
      /Option "stores" .* cache must be a non-empty array/,
    ],
    ['stores: [{}]', { stores: [{}] }, /Option "stores" .* cache must be a non-empty array/],
    [
      'timeout: -1',
      { timeout: -1 },
      /Option "timeout" in SingleflightModule.forRoot\(\) cache must be a number of milliseconds from 1 to 2147483647/,
    ],
    [
      'timeout: 0',
      { timeout: 0 },
      /Option "timeout" .* cache must be a number of milliseconds from 1/,
    ],
    ['timeout: NaN', { timeout: NaN }, /Option "timeout" .* cache must be/],
    ['timeout: 2^31', { timeout: 2 ** 31 }, /Option "timeout" .* cache must be .*got 2147483648/],
    ['timeout: "100"', { timeout: '100' }, /Option "timeout" .* cache must be/],
    [
      'an unknown option',
      { store: new Keyv() },
      /Unknown option "store" in SingleflightModule.forRoot\(\) cache. Allowed: stores, timeout/,
    ],
  ])('refuses cache %s with a SingleflightOptionsError', async (_, cache, message) => {
    const booted = boot({ cache } as SingleflightModuleOptions);
    await expect(booted).rejects.toThrow(SingleflightOptionsError);
    await expect(booted).rejects.toThrow(message);
  });

  it('takes Keyv stores and a store timeout up to 2^31 - 1 ms', async () => {
    const app = await boot({ cache: { stores: [new Keyv()], timeout: 2 ** 31 - 1 } });
    expect(app.get(FlightCache)).toBeInstanceOf(FlightCache);
  });
});
