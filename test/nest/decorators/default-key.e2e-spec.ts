import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  Get,
  Injectable,
  type INestApplication,
  Post,
  Query,
  Req,
  ValidationPipe,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import request from 'supertest';
import {
  Group,
  SingleFlight,
  SingleflightKeyError,
  SingleflightModule,
} from '../../../lib/index.js';
import { deferred } from '../../support/deferred.js';
import { until } from '../../support/until.js';

// The standard Nest setup: ValidationPipe({ transform: true }) turns a query or a body into an
// instance of its DTO class. The default key reads such an instance as data (its class and its
// own properties), so a DTO method shares flights between equal requests only.

class Range {
  @IsInt() from!: number;
  @IsInt() to!: number;
}

class FindDto {
  @IsString() q!: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) page?: number;
}

class SearchDto {
  @IsString() q!: string;
  @ValidateNested() @Type(() => Range) range!: Range;
}

@Controller('items')
class ItemsController {
  runs = 0;
  gate = deferred();
  seen: unknown[] = [];

  @Get()
  @SingleFlight()
  async find(@Query() query: FindDto): Promise<{ q: string; page?: number; run: number }> {
    const run = ++this.runs;
    this.seen.push(query);
    await this.gate.promise;
    return { q: query.q, page: query.page, run };
  }

  @Post('search')
  @SingleFlight()
  async search(@Body() body: SearchDto): Promise<string> {
    return `${body.q} ${body.range.from}-${body.range.to} (${++this.runs})`;
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot() {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    controllers: [ItemsController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  app.useGlobalPipes(new ValidationPipe({ transform: true }));
  await app.init();
  return { app, items: app.get(ItemsController), group: app.get(Group) };
}

describe('DTOs under ValidationPipe({ transform: true }) with the default key', () => {
  it('4 users x 5 concurrent requests: one run per user, each user gets their own answer', async () => {
    const { app, items, group } = await boot();
    const users = ['alice', 'bob', 'carol', 'dave'];
    const responses = Promise.all(
      users.flatMap((q) =>
        Array.from({ length: 5 }, () =>
          request(app.getHttpServer()).get('/items').query({ q, page: '2' }),
        ),
      ),
    );
    // Every request is in: 4 flights run, 16 requests joined them.
    await until(() => items.runs === 4 && group.stats().joins === 16);
    // What the pipe made: an instance of the DTO whose own properties are all enumerable data.
    for (const dto of items.seen as object[]) {
      expect(dto).toBeInstanceOf(FindDto);
      expect(Reflect.ownKeys(dto)).toEqual(Object.keys(dto));
    }
    items.gate.resolve();
    const answers = (await responses).map((r) => [r.status, r.body as { q: string }] as const);
    users.forEach((q, u) => {
      for (const [status, body] of answers.slice(u * 5, u * 5 + 5)) {
        expect(status).toBe(200);
        expect(body).toMatchObject({ q, page: 2 });
      }
    });
    expect(new Set(answers.map(([, body]) => body.q))).toEqual(new Set(users));
  });

  it('a nested DTO is data too: different nested values never share', async () => {
    const { app } = await boot();
    const post = (from: number) =>
      request(app.getHttpServer())
        .post('/items/search')
        .send({ q: 'x', range: { from, to: 9 } });
    const [a, b] = await Promise.all([post(1), post(2)]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect([a.text, b.text].sort()).toEqual(['x 1-9 (1)', 'x 2-9 (2)'].sort());
  });
});

describe('what the default key refuses fails when the class is defined, not per request', () => {
  const definitionError = (define: () => unknown) => {
    try {
      define();
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('a parameter whose class has methods or accessors (it can hide state)', () => {
    class Session {
      constructor(private readonly token: string) {}
      get user(): string {
        return this.token;
      }
    }
    const error = definitionError(() => {
      @Injectable()
      class Profiles {
        @SingleFlight()
        async profile(session: Session): Promise<string> {
          return session.user;
        }
      }
      return Profiles;
    });
    expect(error).toBeInstanceOf(SingleflightKeyError);
    expect((error as Error).message).toMatch(
      /^Profiles\.profile: @SingleFlight\(\) without a key would fail every call.*argument 1 \(an instance of Session, a class with methods or accessors.*@SingleFlight\(\(id: string\) => id\)/,
    );
  });

  it('a route handler argument that is the request, or a Map parameter', () => {
    const cases: [() => unknown, RegExp][] = [
      [
        () => {
          @Controller()
          class Me {
            @Get('me')
            @SingleFlight()
            async me(@Req() req: object): Promise<object> {
              return req;
            }
          }
          return Me;
        },
        /Me\.me: .*argument 1 \(the @Req\(\) object\)/,
      ],
      [
        () => {
          class Prices {
            @SingleFlight()
            async get(ids: Map<string, number>): Promise<number> {
              return ids.size;
            }
          }
          return Prices;
        },
        /Prices\.get: .*argument 1 \(an instance of Map\)/,
      ],
    ];
    for (const [define, message] of cases) {
      const error = definitionError(define);
      expect(error).toBeInstanceOf(SingleflightKeyError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('an explicit key, a data class, Object, Function or a primitive is accepted', () => {
    class Session {
      get user(): string {
        return 'u';
      }
    }
    expect(
      definitionError(() => {
        class Ok {
          @SingleFlight((session: Session) => session.user)
          async a(session: Session): Promise<string> {
            return session.user;
          }
          @SingleFlight()
          async b(dto: FindDto, range: Range, plain: object, id: string, n: number): Promise<void> {
            void [dto, range, plain, id, n];
          }
          // Function: a function type, or a class imported with `import type` (a DTO).
          @SingleFlight()
          async c(typeOnly: () => void): Promise<void> {
            void typeOnly;
          }
        }
        return Ok;
      }),
    ).toBeUndefined();
  });
});
