import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';

// prom-client is an optional peer dependency: here it is "not installed", and loading it fails.
jest.unstable_mockModule('prom-client', () => {
  throw new Error("Cannot find package 'prom-client'");
});
const { SingleFlight, SingleflightModule, SingleflightOptionsError } =
  await import('../../../lib/index.js');

class Users {
  runs = 0;

  @SingleFlight((id: string) => id)
  async load(id: string): Promise<string> {
    this.runs++;
    return id;
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(options: Parameters<typeof SingleflightModule.forRoot>[0]) {
  const moduleRef = await Test.createTestingModule({
    imports: [SingleflightModule.forRoot(options)],
    providers: [Users],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app.get(Users);
}

describe('without prom-client installed', () => {
  it('boots and runs flights when metrics are off: the package is never loaded', async () => {
    const users = await boot({ debug: false });
    expect(await Promise.all([users.load('a'), users.load('a')])).toEqual(['a', 'a']);
    expect(users.runs).toBe(1);
  });

  it('fails the boot with a named error that says what to install when metrics are on', async () => {
    const failure = boot({ metrics: true });
    await expect(failure).rejects.toThrow(SingleflightOptionsError);
    await expect(boot({ metrics: true })).rejects.toThrow(
      /needs the prom-client package.*npm install prom-client/,
    );
  });
});
