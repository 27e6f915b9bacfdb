// The package's three entries (package.json "exports"): what each one gives, and that a class is
// one class whichever entry it came from. The built package is checked the same way, in a Nest 11
// CommonJS and a Nest 12 ESM app, by .ci/consumers.
import { describe, expect, it } from '@jest/globals';
import * as root from '../lib/index.js';
import * as core from '../lib/core/index.js';
import * as redis from '../lib/redis/index.js';

const ENTRIES = { 'nestjs-singleflight': root, '/core': core, '/redis': redis };

describe('the package entries', () => {
  it('give a Nest app the module, the decorators, the engines it injects and every error', () => {
    expect(Object.keys(root).sort()).toEqual([
      'FlightCache',
      'Group',
      'MergeWrites',
      'ObservableGroup',
      'RemoteFlightError',
      'SingleFlight',
      'SingleflightAbortError',
      'SingleflightArgumentError',
      'SingleflightCoordinationError',
      'SingleflightKeyError',
      'SingleflightModule',
      'SingleflightOptionsError',
      'SingleflightReentryError',
      'SingleflightThrownValueError',
      'SingleflightTimeoutError',
      'WriteGroup',
      'doChan$',
      'isRemoteError',
    ]);
  });

  it('give a plain Node program the engines, keys and errors of /core', () => {
    expect(Object.keys(core).sort()).toEqual([
      'Group',
      'SingleflightAbortError',
      'SingleflightArgumentError',
      'SingleflightKeyError',
      'SingleflightOptionsError',
      'SingleflightReentryError',
      'SingleflightThrownValueError',
      'SingleflightTimeoutError',
      'WriteGroup',
      'serializeArgs',
    ]);
  });

  it('give the Redis engines, the adapters and their errors in /redis', () => {
    expect(Object.keys(redis).sort()).toEqual([
      'DistributedFlight',
      'DistributedWriteGroup',
      'MISS_SENTINEL',
      'RemoteFlightError',
      'SingleflightCoordinationError',
      'ioredisAdapter',
      'isRemoteError',
      'nodeRedisAdapter',
    ]);
  });

  it('export one object under each name, whichever entries give it', () => {
    const seen = new Map<string, unknown>();
    for (const [entry, exports] of Object.entries(ENTRIES)) {
      for (const [name, value] of Object.entries(exports)) {
        if (seen.has(name)) expect([entry, name, value]).toEqual([entry, name, seen.get(name)]);
        else seen.set(name, value);
      }
    }
    expect(root.Group).toBe(core.Group);
    expect(root.SingleflightCoordinationError).toBe(redis.SingleflightCoordinationError);
  });

  it('let an error thrown by /core code be caught by the class the root exports', async () => {
    const group = new core.Group();
    const never = () => new Promise<never>(() => {});
    const error = await group.do('k', never, { timeout: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(root.SingleflightTimeoutError);
    expect(() => redis.nodeRedisAdapter({} as never)).toThrow(root.SingleflightArgumentError);
  });
});
