import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Delete,
  Get,
  Injectable,
  type INestApplication,
  Param,
  Query,
  Scope,
  ValidationPipe,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsInt, IsString } from 'class-validator';
import { createCache } from 'cache-manager';
import request from 'supertest';
import {
  FlightCache,
  MergeWrites,
  SingleFlight,
  SingleflightArgumentError,
  SingleflightModule,
} from '../../lib/index.js';
import { serializeArgs } from '../../lib/core/index.js';

// The typed FlightCache.invalidate(Class, method, ...args) against the string form, over HTTP:
// each string key below is written out as the README documents it, so a typed form that built any
// other key would leave the value cached.

const tenants = new AsyncLocalStorage<string>();

class FindDto {
  @IsString() shop!: string;
  @Type(() => Number) @IsInt() page!: number;
}

@Injectable()
class Tokens {
  readonly runs: Record<string, number> = {};
  readonly prefix = 'v2';

  #ran(name: string): number {
    return (this.runs[name] = (this.runs[name] ?? 0) + 1);
  }

  @SingleFlight((region: string, business: string) => `${region}/${business}`, { ttl: 60_000 })
  async token(region: string, business: string): Promise<string> {
    return `${region}/${business}#${this.#ran('token')}`;
  }

  @SingleFlight({ ttl: 60_000 })
  async byDefault(region: string, business: string): Promise<string> {
    return `${region}/${business}#${this.#ran('byDefault')}`;
  }

  @SingleFlight((id: string) => id, { scope: 'prices.get', ttl: 60_000 })
  async price(id: string): Promise<string> {
    return `${id}#${this.#ran('price')}`;
  }

  // keyContext: the module's reads the tenant of the request.
  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async profile(id: string): Promise<string> {
    return `${tenants.getStore()}/${id}#${this.#ran('profile')}`;
  }

  @SingleFlight({ ttl: 60_000 })
  async find(query: FindDto): Promise<string> {
    return `${query.shop}/${query.page}#${this.#ran('find')}`;
  }

  // A key function that reads the instance: the typed form calls it with the app's instance.
  @SingleFlight(
    function (this: Tokens, id: string) {
      return `${this.prefix}/${id}`;
    },
    { ttl: 60_000 },
  )
  async versioned(id: string): Promise<string> {
    return `${id}#${this.#ran('versioned')}`;
  }

  @SingleFlight((id: string) => id)
  async uncached(id: string): Promise<string> {
    return id;
  }

  @MergeWrites((id: string) => id)
  async push(id: string): Promise<void> {
    void id;
  }
}

/** A request-scoped class: there is no one instance to call a `function` key function with. */
@Injectable({ scope: Scope.REQUEST })
class PerRequest {
  readonly user = 'u1';

  @SingleFlight(
    function (this: PerRequest, id: string) {
      return `${this.user}/${id}`;
    },
    { ttl: 60_000 },
  )
  async mine(id: string): Promise<string> {
    return id;
  }

  @SingleFlight((id: string) => id, { ttl: 60_000 })
  async shared(id: string): Promise<string> {
    return id;
  }
}

@Controller()
class TokensController {
  constructor(
    private readonly tokens: Tokens,
    private readonly cache: FlightCache,
  ) {}

  @Get('token/:region/:business')
  token(@Param('region') region: string, @Param('business') business: string) {
    return this.tokens.token(region, business);
  }

  @Delete('token/:region/:business')
  async dropToken(@Param('region') region: string, @Param('business') business: string) {
    await this.cache.invalidate(Tokens, 'token', region, business);
  }

  @Get('default/:region/:business')
  byDefault(@Param('region') region: string, @Param('business') business: string) {
    return this.tokens.byDefault(region, business);
  }

  @Delete('default/:region/:business')
  async dropDefault(@Param('region') region: string, @Param('business') business: string) {
    await this.cache.invalidate(Tokens, 'byDefault', region, business);
  }

  @Get('price/:id')
  price(@Param('id') id: string) {
    return this.tokens.price(id);
  }

  @Delete('price/:id')
  async dropPrice(@Param('id') id: string) {
    await this.cache.invalidate(Tokens, 'price', id);
  }

  @Get('profile/:id')
  profile(@Param('id') id: string) {
    return this.tokens.profile(id);
  }

  @Delete('profile/:id')
  async dropProfile(@Param('id') id: string) {
    await this.cache.invalidate(Tokens, 'profile', id);
  }

  @Get('find')
  find(@Query() query: FindDto) {
    return this.tokens.find(query);
  }

  @Delete('find')
  async dropFind(@Query() query: FindDto) {
    await this.cache.invalidate(Tokens, 'find', query);
  }

  @Get('versioned/:id')
  versioned(@Param('id') id: string) {
    return this.tokens.versioned(id);
  }

  @Delete('versioned/:id')
  async dropVersioned(@Param('id') id: string) {
    await this.cache.invalidate(Tokens, 'versioned', id);
  }

  /** The string form, for advanced use: the whole key as given. */
  @Delete('key/:key')
  async dropKey(@Param('key') key: string) {
    await this.cache.invalidate(key);
  }
}

let app: INestApplication;
let cache: FlightCache;
let tokens: Tokens;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot({ keyContext: () => tenants.getStore() })],
    providers: [Tokens, PerRequest],
    controllers: [TokensController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  app.use(
    (req: { headers: Record<string, string | undefined> }, _res: unknown, next: () => void) => {
      const tenant = req.headers['x-tenant'];
      if (tenant === undefined) next();
      else tenants.run(tenant, next);
    },
  );
  app.useGlobalPipes(new ValidationPipe({ transform: true }));
  await app.init();
  cache = app.get(FlightCache);
  tokens = app.get(Tokens);
});
afterAll(() => app.close());

const http = () => request(app.getHttpServer());

/**
 * Caches `path`, checks that `key` holds its value and that a second GET is a hit, invalidates
 * with `drop`, and checks that `key` was dropped (`other` stays cached) and that the next GET runs
 * the work again.
 */
async function invalidates(
  run: string,
  path: string,
  key: string,
  drop: () => request.Test,
  other?: { path: string; key: string },
  tenant?: string,
) {
  const as = (test: request.Test) => (tenant === undefined ? test : test.set('x-tenant', tenant));
  const first = (await as(http().get(path)).expect(200)).text;
  if (other !== undefined) await as(http().get(other.path)).expect(200);
  const runs = tokens.runs[run];
  expect((await as(http().get(path)).expect(200)).text).toBe(first);
  expect(tokens.runs[run]).toBe(runs);
  expect(await cache.stored(key)).toBe(first);

  await as(drop()).expect(200);
  expect(await cache.stored(key)).toBeUndefined();
  if (other !== undefined) expect(await cache.stored(other.key)).toBeDefined();
  expect((await as(http().get(path)).expect(200)).text).not.toBe(first);
  expect(tokens.runs[run]).toBe(runs! + 1);
}

describe('FlightCache.invalidate(Class, method, ...args) over HTTP', () => {
  it('drops the key a key function gives, the one the string form names', async () => {
    const key = 'Tokens.token::eu/shop';
    const other = { path: '/token/us/shop', key: 'Tokens.token::us/shop' };
    await invalidates('token', '/token/eu/shop', key, () => http().delete('/token/eu/shop'), other);
    await invalidates('token', '/token/eu/shop', key, () =>
      http().delete(`/key/${encodeURIComponent(key)}`),
    );
  });

  it('drops the default key of the arguments', async () => {
    const key = 'Tokens.byDefault::["eu","shop"]';
    const other = { path: '/default/eu/mall', key: 'Tokens.byDefault::["eu","mall"]' };
    const drop = () => http().delete('/default/eu/shop');
    await invalidates('byDefault', '/default/eu/shop', key, drop, other);
    await invalidates('byDefault', '/default/eu/shop', key, () =>
      http().delete(`/key/${encodeURIComponent(key)}`),
    );
  });

  it('drops the key under the method`s `scope`', async () => {
    const key = 'prices.get::42';
    await invalidates('price', '/price/42', key, () => http().delete('/price/42'), {
      path: '/price/43',
      key: 'prices.get::43',
    });
  });

  it("drops the current context's key (keyContext), not another tenant's", async () => {
    const key = 'Tokens.profile:@acme:7';
    const drop = () => http().delete('/profile/7');
    await invalidates('profile', '/profile/7', key, drop, undefined, 'acme');
    // Another tenant's value of the same arguments stays cached.
    await http().get('/profile/7').set('x-tenant', 'globex').expect(200);
    expect(await cache.stored('Tokens.profile:@globex:7')).toBeDefined();
    await http().delete('/profile/7').set('x-tenant', 'acme').expect(200);
    expect(await cache.stored('Tokens.profile:@globex:7')).toBeDefined();
    // Without a context, the key of calls without one.
    await invalidates('profile', '/profile/7', 'Tokens.profile::7', drop);
  });

  it('drops the default key of a DTO argument (ValidationPipe transform)', async () => {
    const dto = Object.assign(new FindDto(), { shop: 'acme', page: 2 });
    const key = `Tokens.find::${serializeArgs([dto], '')}`;
    const drop = () => http().delete('/find?shop=acme&page=2');
    await invalidates('find', '/find?shop=acme&page=2', key, drop, {
      path: '/find?shop=acme&page=3',
      key: `Tokens.find::${serializeArgs([Object.assign(new FindDto(), { shop: 'acme', page: 3 })], '')}`,
    });
  });

  it("calls a key function with the app's instance as `this`", async () => {
    await invalidates('versioned', '/versioned/9', 'Tokens.versioned::v2/9', () =>
      http().delete('/versioned/9'),
    );
  });
});

describe('FlightCache.invalidate(Class, method, ...args) refuses what it cannot key', () => {
  it('a method that is not a @SingleFlight() method of the class, naming it', async () => {
    const wrong = cache.invalidate(Tokens, 'tokn' as never);
    await expect(wrong).rejects.toThrow(SingleflightArgumentError);
    await expect(wrong).rejects.toThrow(
      /Tokens\.tokn, which is not a method with @SingleFlight\(\)/,
    );
    await expect(cache.invalidate(Tokens, 'push' as never, 'a')).rejects.toThrow(
      /Tokens\.push, which is a @MergeWrites\(\) method/,
    );
  });

  it('a method that is not cached', async () => {
    await expect(cache.invalidate(Tokens, 'uncached', 'a')).rejects.toThrow(
      /Tokens\.uncached, whose values are not cached in this app/,
    );
  });

  it('a `function` key function of a class with no one instance; an arrow one works', async () => {
    await expect(cache.invalidate(PerRequest, 'mine', 'a')).rejects.toThrow(
      /cannot build the key of PerRequest\.mine: its key function is called with `this`.*invalidate\(`PerRequest\.mine:<key>`\)/,
    );
    await expect(cache.invalidate(PerRequest, 'shared', 'a')).resolves.toBeUndefined();
  });

  it('on a FlightCache the module did not provide', async () => {
    const own = new FlightCache(createCache());
    await expect(own.invalidate(Tokens, 'token', 'eu', 'shop')).rejects.toThrow(
      /only the FlightCache that SingleflightModule provides can do/,
    );
  });
});
