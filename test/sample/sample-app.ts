import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';

export interface SampleApp {
  app: INestApplication;
  url: string;
}

/**
 * Boots the real sample AppModule on a free port. The sample reads its environment once, when it is
 * first imported (the token TTL is a decorator option), so `env` applies to the first boot of a
 * test file only; jest gives every file its own module registry.
 */
export async function bootSample(
  env: Record<string, string>,
  override: (builder: TestingModuleBuilder) => TestingModuleBuilder = (builder) => builder,
): Promise<SampleApp> {
  Object.assign(process.env, env);
  const { AppModule } = await import('../../sample/app.module.js');
  const moduleRef = await override(Test.createTestingModule({ imports: [AppModule] })).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}
