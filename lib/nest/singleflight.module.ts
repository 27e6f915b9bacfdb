import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { FlightCache } from '../cache/flight-cache.js';
import { Group } from '../core/group.js';
import { WriteGroup } from '../core/write-group.js';
import { ObservableGroup } from '../rx/observable-group.js';
import { FlightRunner } from './runner/flight-runner.js';
import {
  FOR_ROOT,
  FOR_ROOT_ASYNC,
  calledAs,
  checkForRoot,
  checkForRootAsync,
} from './module-call.js';
import { SingleflightLog } from './singleflight-log.js';
import { SingleflightExplorer } from './singleflight.explorer.js';
import { StartupReport } from './startup-report.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './singleflight.module-definition.js';
import { singleflightProviders } from './singleflight.providers.js';

/**
 * Provides this app's Group, WriteGroup, ObservableGroup and FlightCache (null with
 * `cache: false`), and the engine behind `@SingleFlight()` and `@MergeWrites()`. Global unless
 * `isGlobal: false`. Each app has its own engines; there is no static singleton.
 *
 * ```ts
 * @Module({ imports: [SingleflightModule.forRoot({ timeout: 5_000 })] })
 * export class AppModule {}
 *
 * SingleflightModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ ttl: Number(config.getOrThrow('CACHE_TTL_MS')) }),
 * });
 * ```
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [...singleflightProviders, FlightRunner, SingleflightExplorer, StartupReport],
  exports: [Group, WriteGroup, ObservableGroup, FlightCache, FlightRunner],
})
export class SingleflightModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(private readonly log: SingleflightLog) {
    super();
  }

  /**
   * The module with these options (all optional), plus `isGlobal` (default true). Bad options fail
   * the boot with a SingleflightOptionsError that names `SingleflightModule.forRoot()`.
   */
  // The generated forRoot() fails when called without an argument.
  static override forRoot(options: typeof OPTIONS_TYPE = {}) {
    checkForRoot(options);
    return calledAs(super.forRoot(options), FOR_ROOT);
  }

  /**
   * The module with options from `useFactory` (with `imports` and `inject`), `useClass` or
   * `useExisting` (a class with `createSingleflightOptions()`), plus `isGlobal` (default true).
   * Options that are not one of these, and bad module options from the factory, fail with a
   * SingleflightOptionsError that names `SingleflightModule.forRootAsync()`.
   */
  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    checkForRootAsync(options);
    return calledAs(super.forRootAsync(options), FOR_ROOT_ASYNC);
  }

  /**
   * Runs after the shutdown hooks of the app's own modules and of this module's providers (the
   * Redis engines stopped in `beforeApplicationShutdown`):
   * from here on, flights this app left running settle without logging into another app's logger.
   */
  onApplicationShutdown(): void {
    this.log.close();
  }
}
