import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SingleflightModule, SingleflightOptionsError } from '../../lib/index.js';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function bootError(module: unknown): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({ imports: [module as never] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  } catch (error) {
    return error;
  }
  return undefined;
}

// A factory that forgets its `return` gives undefined: the module read `codecs` of it and failed
// the boot with a TypeError that named neither the module nor the fix.
describe('what forRootAsync() useFactory returns', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an array', [{ ttl: 1000 }]],
    ['a number', 1000],
  ])('fails the boot with a named error when it is %s', async (_, result) => {
    const error = await bootError(
      SingleflightModule.forRootAsync({ useFactory: async () => result as never }),
    );
    expect(error).toBeInstanceOf(SingleflightOptionsError);
    expect((error as Error).message).toMatch(
      /"options" in SingleflightModule\.forRootAsync\(\) must be an object/,
    );
  });

  it('boots with an empty object', async () => {
    expect(await bootError(SingleflightModule.forRootAsync({ useFactory: () => ({}) }))).toBe(
      undefined,
    );
  });
});
