import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { FlightCache } from '../cache/flight-cache.js';
import { Group } from '../core/group.js';
import { WriteGroup } from '../core/write-group.js';
import { ObservableGroup } from '../rx/observable-group.js';
import { FlightRunner } from './flight-runner.js';
import { SingleflightLog } from './singleflight-log.js';
import { SingleflightExplorer } from './singleflight.explorer.js';
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
 *   useFactory: (config: ConfigService) => ({ ttl: config.get<number>('CACHE_TTL_MS') }),
 * });
 * ```
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [...singleflightProviders, FlightRunner, SingleflightExplorer],
  exports: [Group, WriteGroup, ObservableGroup, FlightCache, FlightRunner],
})
export class SingleflightModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(private readonly log: SingleflightLog) {
    super();
  }

  /**
   * The module with these options (all optional), plus `isGlobal` (default true). Bad options fail
   * the boot with a SingleflightOptionsError.
   */
  // The generated forRoot() fails when called without an argument.
  static override forRoot(options: typeof OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }

  /**
   * The module with options from `useFactory` (with `imports` and `inject`), `useClass` or
   * `useExisting` (a class with `createSingleflightOptions()`), plus `isGlobal` (default true).
   */
  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }

  /**
   * Nest calls a module's own hook after its providers' (the Redis engines have closed by then):
   * from here on, flights this app left running settle without logging into another app's logger.
   */
  onApplicationShutdown(): void {
    this.log.close();
  }
}
