import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  type INestApplication,
  Injectable,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { SingleFlight, SingleflightModule, SingleflightTimeoutError } from '../../lib/index.js';
import { deferred } from '../support/deferred.js';

/** Work that never settles while a test waits: only the caller's timeout can end the call. */
const never = deferred<string>();

@Injectable()
class SlowService {
  @SingleFlight('slow', { timeout: 20 })
  async slow(): Promise<string> {
    return never.promise;
  }
}

@Controller()
class SlowController {
  constructor(private readonly service: SlowService) {}

  @Get('route')
  @SingleFlight('route', { timeout: 20 })
  async route(): Promise<string> {
    return never.promise;
  }

  /** The timeout comes from a service: the route itself is not decorated. */
  @Get('service')
  service$(): Promise<string> {
    return this.service.slow();
  }

  /** A service that catches the timeout still sees the library's own error class. */
  @Get('caught')
  async caught(): Promise<string> {
    try {
      return await this.service.slow();
    } catch (error) {
      return error instanceof SingleflightTimeoutError
        ? `timed out after ${error.timeout} ms`
        : '?';
    }
  }
}

/** The opt-out the README gives: an exception filter for the library's timeout error. */
@Catch(SingleflightTimeoutError)
class TimeoutAs503 implements ExceptionFilter {
  catch(error: SingleflightTimeoutError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<{ status(code: number): { json(body: unknown): void } }>()
      .status(503)
      .json({ statusCode: 503, message: 'try again' });
  }
}

async function boot(filter?: ExceptionFilter): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot()],
    controllers: [SlowController],
    providers: [SlowService],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  if (filter) app.useGlobalFilters(filter);
  return app.init();
}

let app: INestApplication;
beforeAll(async () => {
  app = await boot();
});
afterAll(async () => {
  never.resolve('late');
  await app.close();
});

describe('a SingleflightTimeoutError over HTTP', () => {
  it('answers 504 Gateway Timeout on a decorated route, without the key in the body', async () => {
    const response = await request(app.getHttpServer()).get('/route');
    expect(response.status).toBe(504);
    expect(response.body).toEqual({ statusCode: 504, message: 'Gateway Timeout' });
  });

  it('answers 504 when it comes from a decorated service method', async () => {
    const response = await request(app.getHttpServer()).get('/service');
    expect(response.status).toBe(504);
    expect(response.body).toEqual({ statusCode: 504, message: 'Gateway Timeout' });
  });

  it('is still a SingleflightTimeoutError for code that catches it', async () => {
    const response = await request(app.getHttpServer()).get('/caught');
    expect(response.status).toBe(200);
    expect(response.text).toBe('timed out after 20 ms');
  });

  it('answers what an exception filter for it says (the opt-out)', async () => {
    const filtered = await boot(new TimeoutAs503());
    try {
      const response = await request(filtered.getHttpServer()).get('/route');
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ statusCode: 503, message: 'try again' });
    } finally {
      await filtered.close();
    }
  });
});
