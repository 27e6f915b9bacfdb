import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  Controller,
  Get,
  Injectable,
  NotFoundException,
  Param,
} from '@nestjs/common';
import request from 'supertest';
import { SingleFlight } from '../../lib/index.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { type RedisApp, startRedisApp } from '../support/nest-redis-app.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';

// Issue 12 item 7: a work error answers the same over HTTP on every instance, the leader's and the
// others. Only a real HttpException keeps its status and body across instances.

/** `errorCode` is an option of Nest 12's HttpException only (Nest 11's types refuse it inline). */
const WITH_CODE = { cause: undefined, errorCode: 'E_REGION' };

const ERRORS: Record<string, () => unknown> = {
  // A plain error with a numeric status: Nest answers 500, and the message is internal.
  status: () => Object.assign(new Error('upstream http://10.0.0.7/?token=abc'), { status: 404 }),
  // Shaped like an HttpException without being one: still 500.
  lookalike: () =>
    Object.assign(new Error('internal detail'), {
      getStatus: () => 200,
      getResponse: () => ({ forged: true }),
    }),
  // http-errors' shape, which Nest answers with its status (and its message when exposed).
  exposed: () =>
    Object.assign(new Error('gone for good'), { status: 410, statusCode: 410, expose: true }),
  hidden: () =>
    Object.assign(new Error('db at 10.0.0.8 down'), {
      status: 503,
      statusCode: 503,
      expose: false,
    }),
  'not-found': () => new NotFoundException('no such user'),
  'error-code': () => new BadRequestException('bad region', WITH_CODE),
};

const EXPECTED: Record<string, { status: number; body: unknown }> = {
  status: { status: 500, body: { statusCode: 500, message: 'Internal server error' } },
  lookalike: { status: 500, body: { statusCode: 500, message: 'Internal server error' } },
  exposed: { status: 410, body: { statusCode: 410, message: 'gone for good' } },
  hidden: { status: 503, body: { statusCode: 503, message: 'Service Unavailable' } },
  'not-found': {
    status: 404,
    body: { statusCode: 404, message: 'no such user', error: 'Not Found' },
  },
  // What the installed Nest makes of it: Nest 12 adds `error` and `errorCode`, Nest 11 has neither.
  'error-code': {
    status: 400,
    body: new BadRequestException('bad region', WITH_CODE).getResponse(),
  },
};

const backend: string[] = [];
let gate: Deferred<void>;

@Injectable()
class Upstream {
  @SingleFlight((kind: string) => kind)
  async fail(kind: string): Promise<string> {
    backend.push(kind);
    await gate.promise;
    throw ERRORS[kind]!();
  }
}

@Controller('fail')
class FailController {
  constructor(private readonly upstream: Upstream) {}

  @Get(':kind')
  fail(@Param('kind') kind: string) {
    return this.upstream.fail(kind);
  }
}

let server: RedisServer;
let leader: RedisApp;
let other: RedisApp;

beforeAll(async () => {
  server = await startRedis();
  const app = () =>
    startRedisApp(
      server.url,
      { namespace: 'errors-app' },
      { controllers: [FailController], providers: [Upstream] },
    );
  [leader, other] = [await app(), await app()];
});

beforeEach(() => {
  backend.length = 0;
  gate = deferred();
});

afterAll(async () => {
  await leader?.close();
  await other?.close();
  await server?.stop();
});

describe('a work error over HTTP, on two instances sharing one flight through Redis', () => {
  it.each(Object.keys(ERRORS))('%s: every caller gets the answer of the leader', async (kind) => {
    const following = other.coordination.flights!.stats().follower;
    const led = request(leader.app.getHttpServer())
      .get(`/fail/${kind}`)
      .then((r) => r);
    await until(() => backend.length === 1);
    const followed = request(other.app.getHttpServer())
      .get(`/fail/${kind}`)
      .then((r) => r);
    await until(() => other.coordination.flights!.stats().follower === following + 1);
    gate.resolve();

    const [own, remote] = await Promise.all([led, followed]);
    expect(backend).toEqual([kind]);
    expect({ status: own.status, body: own.body }).toEqual(EXPECTED[kind]);
    expect({ status: remote.status, body: remote.body }).toEqual(EXPECTED[kind]);
  });
});
