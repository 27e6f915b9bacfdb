import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Observable, of } from 'rxjs';
import { createClient } from 'redis';
import {
  MergeWrites,
  SingleFlight,
  type SingleflightModuleOptions,
  SingleflightModule,
  SingleflightOptionsError,
} from '../../lib/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Boots an app with the module and these providers; resolves to the boot's error, if any. */
async function bootError(module: unknown, providers: unknown[] = []): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [module as never],
      providers: providers as never[],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  } catch (error) {
    return error;
  }
  return undefined;
}

const fn = () => 1;

/** [module options, what the message says after `Option "<name>" in <call>`]. */
const BAD_MODULE_OPTIONS: [string, Record<string, unknown>, RegExp][] = [
  [
    'timeout < 0',
    { timeout: -1 },
    /"timeout" in CALL must be a finite number of milliseconds >= 0 and at most 2147483647 .*got -1/,
  ],
  [
    'timeout past the longest timer',
    { timeout: 2 ** 31 },
    /"timeout" in CALL must be .* at most 2147483647 \(2\^31 - 1.*got 2147483648/,
  ],
  ['timeout NaN', { timeout: NaN }, /"timeout" in CALL must be a finite number.*got NaN/],
  ['timeout Infinity', { timeout: Infinity }, /"timeout" in CALL must be a finite number/],
  [
    'timeout as a numeric string',
    { timeout: '5000' },
    /"timeout" in CALL must be .*, got "5000"\. Values from the environment or ConfigService are strings: convert it/,
  ],
  ['forgetAfter < 0', { forgetAfter: -1 }, /"forgetAfter" in CALL must be a finite number/],
  [
    'shareErrors not a boolean',
    { shareErrors: 'yes' },
    /"shareErrors" in CALL must be true or false/,
  ],
  ['ttl < 0', { ttl: -1 }, /"ttl" in CALL must be a finite number/],
  ['ttl a function', { ttl: fn }, /"ttl" in CALL must be a finite number.*got a function/],
  [
    'ttl as a string',
    { ttl: '30000' },
    /"ttl" in CALL .*got "30000"\. Values from the environment/,
  ],
  ['refreshThreshold < 0', { refreshThreshold: -5 }, /"refreshThreshold" in CALL must be a finite/],
  [
    'detectAsyncReentry',
    { detectAsyncReentry: 'true' },
    /"detectAsyncReentry" in CALL must be true or false/,
  ],
  ['retry not an object', { retry: 3 }, /"retry" in CALL must be \{ attempts, backoffMs\? \}/],
  [
    'retry.attempts 0',
    { retry: { attempts: 0 } },
    /"attempts" in "retry" of CALL must be an integer >= 1/,
  ],
  ['retry.attempts 1.5', { retry: { attempts: 1.5 } }, /"attempts" in "retry" of CALL must be/],
  [
    'retry.backoffMs < 0',
    { retry: { attempts: 2, backoffMs: -1 } },
    /"backoffMs" in "retry" of CALL must be/,
  ],
  [
    'retry with an unknown field',
    { retry: { attempts: 2, backoff: 5 } },
    /Unknown option "backoff" in "retry" of CALL/,
  ],
  ['cache true', { cache: true }, /"cache" in CALL must be false or \{ stores\?, timeout\? \}/],
  ['metrics a string', { metrics: 'on' }, /"metrics" in CALL must be true, false or \{ registry/],
  [
    'metrics.registry',
    { metrics: { registry: {} } },
    /"registry" in CALL metrics must be a prom-client Registry/,
  ],
  [
    'metrics.prefix',
    { metrics: { prefix: '1x' } },
    /"prefix" in CALL metrics must be a metric name prefix/,
  ],
  [
    'metrics.buckets empty',
    { metrics: { buckets: [] } },
    /"buckets" in CALL metrics must be a non-empty/,
  ],
  [
    'metrics.buckets decreasing',
    { metrics: { buckets: [2, 1] } },
    /"buckets" in CALL metrics must be/,
  ],
  ['metrics unknown', { metrics: { prefx: 'a' } }, /Unknown option "prefx" in CALL metrics/],
  ['debug', { debug: 1 }, /"debug" in CALL must be true or false/],
  ['replay < 0', { replay: -1 }, /"replay" in CALL must be a whole number of values >= 0/],
  ['replay 1.5', { replay: 1.5 }, /"replay" in CALL must be a whole number/],
  [
    'redis a URL',
    { redis: 'redis://localhost' },
    /"redis" in CALL must be \{ namespace, url \| client \| coordinator/,
  ],
  ['redis without namespace', { redis: {} }, /^`redis` in CALL needs `namespace`/],
  [
    'redis without client',
    { redis: { namespace: 'app' } },
    /^`redis` in CALL needs `url` .*`client`/,
  ],
  [
    'redis with a client of no Redis library',
    { redis: { namespace: 'app', client: { get: fn } } },
    /^redis\.client in CALL needs a client of node-redis or ioredis/,
  ],
  ['keyContext a string', { keyContext: 'tenantId' }, /"keyContext" in CALL must be a function/],
  [
    'an unknown name',
    { tll: 1000 },
    /Unknown option "tll" in CALL\. Allowed: timeout, forgetAfter/,
  ],
  ['an inherited name', { constructor: 1 }, /Unknown option "constructor" in CALL\. Allowed:/],
  ['ttl with caching off', { cache: false, ttl: 1000 }, /^CALL sets `ttl`, but caching is off/],
  [
    'refreshThreshold not below ttl',
    { ttl: 1000, refreshThreshold: 1000 },
    /CALL has refreshThreshold 1000 ms, not below its ttl of 1000 ms/,
  ],
];

describe('every module option is checked at start-up, naming the method that was called', () => {
  it.each(BAD_MODULE_OPTIONS)('forRoot: %s', async (_name, options, message) => {
    const error = await bootError(SingleflightModule.forRoot(options as SingleflightModuleOptions));
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    const call = /SingleflightModule\.forRoot\(\)/.source;
    expect((error as Error).message).toMatch(new RegExp(message.source.replaceAll('CALL', call)));
  });

  it.each(BAD_MODULE_OPTIONS)('forRootAsync: %s', async (_name, options, message) => {
    const error = await bootError(
      SingleflightModule.forRootAsync({
        useFactory: async () => options as SingleflightModuleOptions,
      }),
    );
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    const call = /SingleflightModule\.forRootAsync\(\)/.source;
    expect((error as Error).message).toMatch(new RegExp(message.source.replaceAll('CALL', call)));
  });

  it('forRoot itself refuses options that are not an object and a bad isGlobal', () => {
    expect(() => SingleflightModule.forRoot(null as never)).toThrow(
      new SingleflightOptionsError(
        'Option "options" in SingleflightModule.forRoot() must be an object, got null.',
      ),
    );
    expect(() => SingleflightModule.forRoot({ isGlobal: 'yes' } as never)).toThrow(
      /Option "isGlobal" in SingleflightModule\.forRoot\(\) must be true or false, got "yes"/,
    );
  });
});

class OptionsFactory {
  createSingleflightOptions(): SingleflightModuleOptions {
    return {};
  }
}
const factory = () => ({});

/** [forRootAsync's own options, the message]. */
const BAD_ASYNC_OPTIONS: [string, unknown, RegExp][] = [
  ['not an object', 'ttl', /"options" in SingleflightModule\.forRootAsync\(\) must be an object/],
  [
    'a module option beside useFactory',
    { useFactory: factory, ttl: 1000 },
    /Unknown option "ttl" in SingleflightModule\.forRootAsync\(\).*Module options go in the object that useFactory returns/,
  ],
  ['a misspelled useFactory', { useFactroy: factory }, /Unknown option "useFactroy"/],
  ['an inherited name', { useFactory: factory, toString: 1 }, /Unknown option "toString"/],
  [
    'no source',
    { imports: [] },
    /needs exactly one of useFactory, useClass or useExisting, got none/,
  ],
  [
    'two sources',
    { useFactory: factory, useClass: OptionsFactory },
    /exactly one of .*, got useFactory and useClass/,
  ],
  ['useFactory not a function', { useFactory: {} }, /"useFactory" .* must be a function/],
  [
    'useClass without the method',
    { useClass: class {} },
    /"useClass" .* must be a class with a createSingleflightOptions\(\) method/,
  ],
  ['useExisting a string', { useExisting: 'OPTIONS' }, /"useExisting" .* must be a class with/],
  [
    'inject not an array',
    { useFactory: factory, inject: 'ConfigService' },
    /"inject" .* must be an array/,
  ],
  ['imports not an array', { useFactory: factory, imports: {} }, /"imports" .* must be an array/],
  ['isGlobal', { useFactory: factory, isGlobal: 1 }, /"isGlobal" .* must be true or false/],
];

describe("forRootAsync's own options", () => {
  it.each(BAD_ASYNC_OPTIONS)('refuses %s', (_name, options, message) => {
    expect(() => SingleflightModule.forRootAsync(options as never)).toThrow(message);
    expect(() => SingleflightModule.forRootAsync(options as never)).toThrow(
      SingleflightOptionsError,
    );
  });

  it('takes a useClass with createSingleflightOptions()', async () => {
    expect(
      await bootError(SingleflightModule.forRootAsync({ useClass: OptionsFactory })),
    ).toBeUndefined();
  });
});

/** [decorator call, the message]. */
const BAD_DECORATOR_OPTIONS: [string, () => unknown, RegExp][] = [
  [
    'SingleFlight timeout < 0',
    () => SingleFlight({ timeout: -1 }),
    /"timeout" in @SingleFlight\(\) options must be a finite/,
  ],
  [
    'SingleFlight timeout a string',
    () => SingleFlight({ timeout: '5' as never }),
    /"timeout" .*got "5"\. Values from/,
  ],
  [
    'SingleFlight forgetAfter NaN',
    () => SingleFlight('k', { forgetAfter: NaN }),
    /"forgetAfter" .* must be a finite/,
  ],
  [
    'SingleFlight shareErrors',
    () => SingleFlight({ shareErrors: 'no' as never }),
    /"shareErrors" .* must be true or false/,
  ],
  [
    'SingleFlight ttl < 0',
    () => SingleFlight({ ttl: -1 }),
    /"ttl" .* must be a number of milliseconds >= 0 or a function/,
  ],
  [
    'SingleFlight ttl Infinity',
    () => SingleFlight({ ttl: Infinity }),
    /"ttl" .* must be a number of milliseconds/,
  ],
  [
    'SingleFlight refreshThreshold',
    () => SingleFlight({ refreshThreshold: -1 }),
    /"refreshThreshold" .* must be a finite/,
  ],
  [
    'SingleFlight shouldCache',
    () => SingleFlight({ shouldCache: true as never }),
    /"shouldCache" .* must be a function/,
  ],
  [
    'SingleFlight distributed',
    () => SingleFlight({ distributed: 'false' as never }),
    /"distributed" .* must be true or false/,
  ],
  [
    'SingleFlight keyContext a function',
    () => SingleFlight({ keyContext: fn as never }),
    /"keyContext" .* must be true or false/,
  ],
  [
    'SingleFlight an unknown name',
    () => SingleFlight({ tll: 1 } as never),
    /Unknown option "tll" in @SingleFlight\(\) options/,
  ],
  [
    'SingleFlight an inherited name',
    () => SingleFlight({ toString: 1 } as never),
    /Unknown option "toString" in @SingleFlight\(\) options/,
  ],
  [
    'SingleFlight options not an object',
    () => SingleFlight('k', 5 as never),
    /"options" in @SingleFlight\(\) options must be an object/,
  ],
  [
    'SingleFlight a number as key',
    () => SingleFlight(42 as never),
    /@SingleFlight\(\) takes a key .*got number \(42\)/,
  ],
  [
    'SingleFlight null as key',
    () => SingleFlight(null as never),
    /@SingleFlight\(\) takes a key .*got object \(null\)/,
  ],
  [
    'SingleFlight two option objects',
    () => SingleFlight({} as never, {}),
    /@SingleFlight\(\) got two option objects/,
  ],
  [
    'SingleFlight replay < 0',
    () => SingleFlight({ replay: -1 }),
    /"replay" .* must be a whole number/,
  ],
  [
    'SingleFlight scope empty',
    () => SingleFlight({ scope: '' }),
    /"scope" .* must be a non-empty string/,
  ],
  ['SingleFlight scope with ":"', () => SingleFlight({ scope: 'a:b' }), /"scope" .* without ":"/],
  [
    'SingleFlight shareAcrossRequests',
    () => SingleFlight({ shareAcrossRequests: 'yes' as never }),
    /"shareAcrossRequests" .* must be true or false/,
  ],
  [
    'MergeWrites merge',
    () => MergeWrites({ merge: 'x' as never }),
    /"merge" in @MergeWrites\(\) options must be a function/,
  ],
  [
    'MergeWrites retry',
    () => MergeWrites({ retry: { attempts: 0 } }),
    /"attempts" in "retry" of .* must be an integer >= 1/,
  ],
  [
    'MergeWrites retry.backoffMs',
    () => MergeWrites({ retry: { attempts: 1, backoffMs: 'x' as never } }),
    /"retry"/,
  ],
  [
    'MergeWrites distributed',
    () => MergeWrites({ distributed: 1 as never }),
    /"distributed" .* must be true or false/,
  ],
  [
    'MergeWrites context',
    () => MergeWrites({ context: 'yes' as never }),
    /"context" .* must be true or false/,
  ],
  [
    'MergeWrites keyContext',
    () => MergeWrites({ keyContext: 'x' as never }),
    /"keyContext" .* must be true or false/,
  ],
  [
    'MergeWrites scope',
    () => MergeWrites({ scope: 1 as never }),
    /"scope" in @MergeWrites\(\) options/,
  ],
  [
    'MergeWrites shareAcrossRequests',
    () => MergeWrites({ shareAcrossRequests: 0 as never }),
    /"shareAcrossRequests" in @MergeWrites\(\) options must be true or false/,
  ],
  [
    'MergeWrites an unknown name',
    () => MergeWrites({ merg: fn } as never),
    /Unknown option "merg" in @MergeWrites\(\) options/,
  ],
  ['MergeWrites a number as key', () => MergeWrites(7 as never), /@MergeWrites\(\) takes a key/],
  [
    'MergeWrites two option objects',
    () => MergeWrites({} as never, {}),
    /@MergeWrites\(\) got two option objects/,
  ],
];

describe('every decorator option is checked when the class is defined', () => {
  it.each(BAD_DECORATOR_OPTIONS)('%s', (_name, decorate, message) => {
    expect(decorate).toThrow(message);
    expect(decorate).toThrow(SingleflightOptionsError);
  });
});

describe('decorator options that only the app can check, at start-up', () => {
  it('refuses refreshThreshold and shouldCache on a method that is not cached', async () => {
    @Injectable()
    class Refreshes {
      @SingleFlight('k', { refreshThreshold: 100 })
      async load(): Promise<number> {
        return 1;
      }
    }
    @Injectable()
    class Filters {
      @SingleFlight('k', { shouldCache: () => true, ttl: 0 })
      async load(): Promise<number> {
        return 1;
      }
    }
    for (const [provider, name] of [
      [Refreshes, 'refreshThreshold'],
      [Filters, 'shouldCache'],
    ] as const) {
      const error = await bootError(SingleflightModule.forRoot(), [provider]);
      expect(error).toBeInstanceOf(SingleflightOptionsError);
      expect((error as Error).message).toBe(
        `${provider.name}.load sets \`${name}\`, which applies to cached values only, but the ` +
          'method is not cached (no `ttl` of its own or from the module, `ttl: 0`, or it returns ' +
          'an Observable). Add a `ttl` or remove `' +
          name +
          '`.',
      );
    }
  });

  it('refuses refreshThreshold on an Observable method', async () => {
    @Injectable()
    class Streams {
      @SingleFlight('k', { refreshThreshold: 100 })
      stream(): Observable<number> {
        return of(1);
      }
    }
    const error = await bootError(SingleflightModule.forRoot(), [Streams]);
    expect((error as Error).message).toMatch(/Streams\.stream sets `refreshThreshold`/);
  });

  it("refuses a refreshThreshold not below the method's ttl, its own or the module's", async () => {
    @Injectable()
    class Refreshing {
      @SingleFlight('k', { ttl: 500 })
      async load(): Promise<number> {
        return 1;
      }
    }
    const error = await bootError(SingleflightModule.forRoot({ refreshThreshold: 500 }), [
      Refreshing,
    ]);
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect((error as Error).message).toMatch(
      /^Refreshing\.load has refreshThreshold 500 ms, not below its ttl of 500 ms/,
    );
    expect(
      await bootError(SingleflightModule.forRoot({ refreshThreshold: 499 }), [Refreshing]),
    ).toBeUndefined();
  });

  describe('with Redis', () => {
    let server: RedisServer | undefined;
    afterAll(() => server?.stop());

    it('refuses `retry` on a @MergeWrites method whose writes go through Redis', async () => {
      @Injectable()
      class Retrying {
        @MergeWrites((key: string) => key, { retry: { attempts: 3 } })
        async push(key: string): Promise<string> {
          return key;
        }

        @MergeWrites((key: string) => key, { retry: { attempts: 3 }, distributed: false })
        async local(key: string): Promise<string> {
          return key;
        }
      }
      server = await startRedis();
      const client = createClient({ url: server.url, disableOfflineQueue: true });
      await client.connect();
      try {
        const error = await bootError(
          SingleflightModule.forRoot({ redis: { client, namespace: 'options-test' } }),
          [Retrying],
        );
        expect(error).toBeInstanceOf(SingleflightOptionsError);
        expect((error as Error).message).toMatch(
          /^Retrying\.push has a `retry` option, but its writes are coordinated through Redis/,
        );
        await app?.close();
        app = undefined;
      } finally {
        client.destroy();
      }
    });
  });
});
