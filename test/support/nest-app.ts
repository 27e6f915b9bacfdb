import { afterEach } from '@jest/globals';
import type { INestApplication, LoggerService, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SingleflightModule, type SingleflightModuleOptions } from '../../lib/index.js';

/** What else an app of `nestApps()` gets: module options, other modules, a logger (none). */
export interface AppSetup {
  options?: SingleflightModuleOptions;
  imports?: unknown[];
  logger?: LoggerService | false;
}

/**
 * `boot(providers, controllers, setup)`: a Nest app with `SingleflightModule.forRoot()`,
 * initialised (so the start-up checks ran). Each app booted in a test is closed after it, also
 * when its start-up failed.
 */
export function nestApps(): (
  providers: Provider[],
  controllers?: Type[],
  setup?: AppSetup,
) => Promise<INestApplication> {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  return async (providers, controllers = [], { options, imports = [], logger = false } = {}) => {
    const moduleRef = await Test.createTestingModule({
      imports: [...(imports as never[]), SingleflightModule.forRoot(options)],
      providers,
      controllers,
    }).compile();
    const app = moduleRef.createNestApplication({ logger });
    apps.push(app);
    await app.init();
    return app;
  };
}

/** The warnings the app logs from now on (Nest's Logger is one per process: the newest app's). */
export function warningsOf(app: INestApplication): string[] {
  const warnings: string[] = [];
  app.useLogger({
    log: () => undefined,
    error: () => undefined,
    warn: (message: string) => warnings.push(message),
  });
  return warnings;
}
