import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Injectable,
  type INestApplication,
  Module,
  Param,
  Scope,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Group, SingleFlight, SingleflightModule } from '../../lib/index.js';
import { deferred } from '../support/deferred.js';
import { until } from '../support/until.js';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(imports: unknown[], providers: unknown[] = [], controllers: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    providers: providers as never[],
    controllers: controllers as never[],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

@Injectable()
class UserService {
  calls = 0;
  gate = deferred<void>();

  @SingleFlight((id: string) => id)
  async load(id: string): Promise<{ id: string; call: number; self: boolean }> {
    const call = ++this.calls;
    await this.gate.promise;
    return { id, call, self: this instanceof UserService };
  }
}

describe('@SingleFlight on a provider method', () => {
  it('runs 1000 concurrent calls with one key once, with `this` bound and the name kept', async () => {
    const nest = await boot([SingleflightModule.forRoot()], [UserService]);
    const users = nest.get(UserService);
    const calls = Array.from({ length: 1000 }, () => users.load('u1'));
    users.gate.resolve();
    const results = await Promise.all(calls);
    expect(users.calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toEqual({ id: 'u1', call: 1, self: true });
    expect(users.load.name).toBe('load');
    expect(nest.get(Group).stats()).toMatchObject({ flights: 1, joins: 999, size: 0 });
  });

  it('keeps different keys apart and runs again once a flight has settled', async () => {
    const nest = await boot([SingleflightModule.forRoot()], [UserService]);
    const users = nest.get(UserService);
    users.gate.resolve();
    const [a, b] = await Promise.all([users.load('a'), users.load('b')]);
    expect([a.call, b.call].sort()).toEqual([1, 2]);
    expect((await users.load('a')).call).toBe(3);
  });

  it('gives each app its own engine', async () => {
    const first = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
      providers: [UserService],
    }).compile();
    const second = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
      providers: [UserService],
    }).compile();
    expect(first.get(Group)).not.toBe(second.get(Group));
    const [u1, u2] = [first.get(UserService), second.get(UserService)];
    u1.gate.resolve();
    u2.gate.resolve();
    await Promise.all([u1.load('x'), u2.load('x')]);
    expect([u1.calls, u2.calls]).toEqual([1, 1]);
    await Promise.all([first.close(), second.close()]);
  });

  it('runs the plain method for an instance Nest did not build', async () => {
    const users = new UserService();
    users.gate.resolve();
    await Promise.all([users.load('a'), users.load('a')]);
    expect(users.calls).toBe(2);
  });
});

const ROUTE_MARK = 'test:mark';

@Controller('tokens')
class TokenController {
  executions = 0;
  gate = deferred<void>();

  // @SingleFlight below @Get: the route metadata is set on the wrapper.
  @Get('below/:region')
  @SingleFlight((region: string) => region)
  async below(@Param('region') region: string) {
    this.executions++;
    await this.gate.promise;
    return { region, token: `t-${this.executions}` };
  }

  // @SingleFlight above @Get and another decorator: their metadata is copied onto the wrapper.
  @SingleFlight((region: string) => region)
  @SetMetadata(ROUTE_MARK, 'kept')
  @Get('above/:region')
  async above(@Param('region') region: string) {
    this.executions++;
    await this.gate.promise;
    return { region, token: `t-${this.executions}` };
  }
}

describe('@SingleFlight on a controller route', () => {
  it.each(['below', 'above'])(
    'serves 200 concurrent requests with one execution (decorator %s @Get)',
    async (route) => {
      const nest = await boot([SingleflightModule.forRoot()], [], [TokenController]);
      await nest.listen(0, '127.0.0.1');
      const url = await nest.getUrl();
      const controller = nest.get(TokenController);
      const group = nest.get(Group);
      const responses = Promise.all(
        Array.from({ length: 200 }, () => request(url).get(`/tokens/${route}/eu`)),
      );
      await until(() => group.stats().calls === 200);
      controller.gate.resolve();
      const done = await responses;
      expect(controller.executions).toBe(1);
      expect(done.every((r) => r.status === 200 && r.body.token === 't-1')).toBe(true);
    },
  );

  it('keeps the metadata of other decorators', async () => {
    const nest = await boot([SingleflightModule.forRoot()], [], [TokenController]);
    const reflector = nest.get(Reflector);
    expect(reflector.get(ROUTE_MARK, TokenController.prototype.above)).toBe('kept');
  });
});

let requestScopedExecutions = 0;
const requestGate = deferred<void>();

@Injectable({ scope: Scope.REQUEST })
class RequestScopedService {
  @SingleFlight('report')
  async report(): Promise<string> {
    requestScopedExecutions++;
    await requestGate.promise;
    return 'report';
  }
}

@Controller('report')
class ReportController {
  constructor(private readonly service: RequestScopedService) {}

  @Get()
  report() {
    return this.service.report();
  }
}

describe('@SingleFlight on a request-scoped provider', () => {
  it('shares one execution between calls from different requests', async () => {
    const nest = await boot(
      [SingleflightModule.forRoot()],
      [RequestScopedService],
      [ReportController],
    );
    await nest.listen(0, '127.0.0.1');
    const url = await nest.getUrl();
    const group = nest.get(Group);
    const responses = Promise.all(Array.from({ length: 20 }, () => request(url).get('/report')));
    await until(() => group.stats().calls === 20);
    requestGate.resolve();
    const done = await responses;
    expect(done.map((r) => r.text)).toEqual(Array(20).fill('report'));
    expect(requestScopedExecutions).toBe(1);
  });
});

@Injectable()
class ConfigService {
  readonly timeout = 25;
}
@Module({ providers: [ConfigService], exports: [ConfigService] })
class ConfigModule {}

@Injectable()
class SlowService {
  @SingleFlight('slow')
  async slow(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return 'done';
  }
}

describe('SingleflightModule', () => {
  it('forRootAsync takes its options from an injected provider', async () => {
    const nest = await boot(
      [
        SingleflightModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ timeout: config.timeout }),
        }),
      ],
      [SlowService],
    );
    await expect(nest.get(SlowService).slow()).rejects.toMatchObject({
      name: 'SingleflightTimeoutError',
      timeout: 25,
    });
  });

  it('is global by default, and not with isGlobal: false', async () => {
    @Module({ providers: [UserService] })
    class FeatureModule {}
    await expect(boot([SingleflightModule.forRoot(), FeatureModule])).resolves.toBeDefined();
    await app!.close();
    app = undefined;
    await expect(
      boot([SingleflightModule.forRoot({ isGlobal: false }), FeatureModule]),
    ).rejects.toThrow(/SingleflightModule\.forRoot\(\)/);
  });

  it('fails the boot with the fix in the message when the module is missing', async () => {
    await expect(boot([], [UserService])).rejects.toThrow(
      /SingleflightModule is not imported: add SingleflightModule\.forRoot\(\)/,
    );
  });
});
