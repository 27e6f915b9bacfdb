import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Observable, of } from 'rxjs';
import {
  MergeWrites,
  SingleFlight,
  SingleflightKeyError,
  type SingleflightModuleOptions,
  SingleflightModule,
  SingleflightOptionsError,
} from '../../lib/index.js';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(providers: unknown[], options: SingleflightModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot(options)],
    providers: providers as never[],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('misuse found when the class is defined', () => {
  it('rejects a static method', () => {
    expect(() => {
      class Tokens {
        @SingleFlight()
        static async fetch(): Promise<string> {
          return 't';
        }
      }
      return Tokens;
    }).toThrow(
      new SingleflightOptionsError(
        "@SingleFlight() cannot decorate the static method Tokens.fetch: it needs the app's engine, which Nest injects into instances. Move the method to an injectable provider.",
      ),
    );
  });

  it('rejects a method whose annotated return type is synchronous', () => {
    expect(() => {
      class Counter {
        @SingleFlight()
        count(): number {
          return 1;
        }
      }
      return Counter;
    }).toThrow(/Counter\.count returns Number, synchronously.*Make it async/);
  });

  it('rejects unknown and out-of-range options', () => {
    expect(() => SingleFlight({ timout: 5 } as never)).toThrow(
      /Unknown option "timout" in @SingleFlight\(\) options\. Allowed: timeout, forgetAfter/,
    );
    expect(() => SingleFlight('k', { timeout: -1 })).toThrow(SingleflightOptionsError);
    // A timer fires a delay past 2^31 - 1 ms after 1 ms: refused at class definition.
    expect(() => SingleFlight('k', { timeout: 2 ** 31 })).toThrow(/at most 2147483647/);
    expect(() => MergeWrites({ retry: { attempts: 2, backoffMs: 2 ** 31 } })).toThrow(
      SingleflightOptionsError,
    );
    expect(() => MergeWrites({ retry: { attempts: 0 } })).toThrow(SingleflightOptionsError);
  });

  it('rejects the same method decorated twice', () => {
    expect(() => {
      class Twice {
        @SingleFlight()
        @MergeWrites()
        async save(): Promise<void> {}
      }
      return Twice;
    }).toThrow(/Twice\.save has @SingleFlight\(\) or @MergeWrites\(\) twice/);
  });
});

describe('misuse found at start-up', () => {
  it('rejects bad module options', async () => {
    await expect(boot([], { timeout: -5 })).rejects.toThrow(
      /Option "timeout" in SingleflightModule\.forRoot\(\) must be a finite number/,
    );
    await expect(boot([], { cache: false, ttl: 1000 })).rejects.toThrow(SingleflightOptionsError);
    await expect(boot([], { timeout: 2 ** 31 })).rejects.toThrow(
      /Option "timeout" in SingleflightModule\.forRoot\(\) must be .* at most 2147483647/,
    );
    await expect(
      boot([], { redis: { namespace: 'n', opTimeoutMs: 2 ** 31 } } as never),
    ).rejects.toThrow(/Option "opTimeoutMs" .* at most 2147483647/);
    await expect(boot([], { unknown: true } as never)).rejects.toThrow(/Unknown option "unknown"/);
  });

  it('rejects ttl on a method when caching is off', async () => {
    @Injectable()
    class Cached {
      @SingleFlight('k', { ttl: 1000 })
      async load(): Promise<number> {
        return 1;
      }
    }
    await expect(boot([Cached], { cache: false })).rejects.toThrow(
      /Cached\.load sets `ttl`, but caching is off/,
    );
  });

  it('rejects ttl on an Observable method, and @MergeWrites on one', async () => {
    @Injectable()
    class Streams {
      @SingleFlight('k', { ttl: 1000 })
      stream(): Observable<number> {
        return of(1);
      }
    }
    await expect(boot([Streams])).rejects.toThrow(/returns an Observable.*cannot cache/);
    @Injectable()
    class Pushes {
      @MergeWrites()
      push(): Observable<number> {
        return of(1);
      }
    }
    await expect(boot([Pushes])).rejects.toThrow(
      /@MergeWrites\(\) needs a method that returns a Promise/,
    );
  });
});

@Injectable()
class Keys {
  @SingleFlight((id: string) => {
    if (!id) throw new Error('no id');
    return id;
  })
  async byId(id: string): Promise<string> {
    return id;
  }

  @SingleFlight(((id: string) => Number(id)) as unknown as (id: string) => string)
  async numeric(id: string): Promise<string> {
    return id;
  }

  @SingleFlight()
  async byDefault(request: object): Promise<string> {
    return typeof request;
  }
}

describe('misuse found at the call', () => {
  it('a key function that throws rejects with a SingleflightKeyError naming the method', async () => {
    const keys = (await boot([Keys])).get(Keys);
    const error = await keys.byId('').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SingleflightKeyError);
    expect(error).toMatchObject({ message: expect.stringContaining('Keys.byId') });
    expect((error as Error).cause).toEqual(new Error('no id'));
  });

  it('a key function that returns no string rejects', async () => {
    const keys = (await boot([Keys])).get(Keys);
    await expect(keys.numeric('1')).rejects.toThrow(
      /The key function of Keys\.numeric must return a string, got number/,
    );
  });

  it('the default key refuses a class instance rather than drop it', async () => {
    class IncomingMessage {
      constructor(readonly user: string) {}
      header(name: string) {
        return name;
      }
    }
    const keys = (await boot([Keys])).get(Keys);
    await expect(keys.byDefault(new IncomingMessage('alice'))).rejects.toThrow(
      /Keys\.byDefault: the default key cannot serialize argument 1 \(an instance of IncomingMessage, a class with methods or accessors.*Pass an explicit key/,
    );
    await expect(keys.byDefault({ user: 'alice' })).resolves.toBe('object');
  });

  it('an unannotated synchronous method passes its value through and warns once', async () => {
    @Injectable()
    class Sync {
      @SingleFlight('k')
      value() {
        return 42;
      }
    }
    const warnings: string[] = [];
    const nest = await boot([Sync]);
    nest.useLogger({
      log: () => undefined,
      error: () => undefined,
      warn: (m: string) => warnings.push(m),
    });
    const sync = nest.get(Sync);
    expect([sync.value(), sync.value()]).toEqual([42, 42]);
    expect(warnings).toEqual([
      expect.stringMatching(/Sync\.value returned a value that is neither/),
    ]);
  });
});
