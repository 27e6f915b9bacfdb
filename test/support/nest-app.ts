import { afterEach } from '@jest/globals';
import type { INestApplication, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SingleflightModule } from '../../lib/index.js';

/**
 * `boot(providers, controllers)`: a Nest app with `SingleflightModule.forRoot()`, initialised
 * (so the start-up checks ran). Each app booted in a test is closed after it, also when its
 * start-up failed.
 */
export function nestApps(): (
  providers: Provider[],
  controllers?: Type[],
) => Promise<INestApplication> {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  return async (providers, controllers = []) => {
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot()],
      providers,
      controllers,
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    await app.init();
    return app;
  };
}
