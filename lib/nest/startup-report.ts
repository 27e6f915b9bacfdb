import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { FlightCache } from '../cache/flight-cache.js';
import { type CacheChoice, settle } from './app-cache.js';
import type { SingleflightModuleOptions } from './interfaces/singleflight-module-options.interface.js';
import * as messages from './nest.messages.js';
import type { RedisCoordination } from './redis-coordination.js';
import { SingleflightLog } from './singleflight-log.js';
import { CACHE_CHOICE, OPTIONS, REDIS_COORDINATION } from './singleflight.constants.js';

/**
 * Says once, when the app starts, what the module uses: which cache, whether Redis coordinates
 * the instances (and under which namespaces), whether metrics and debug logs are on. A wrong
 * setup (a CacheModule the module did not find, Redis left out) then shows in the app's log.
 */
@Injectable()
export class StartupReport implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    @Inject(OPTIONS) private readonly options: SingleflightModuleOptions,
    @Inject(CACHE_CHOICE) private readonly choice: CacheChoice,
    @Inject(FlightCache) private readonly cache: FlightCache | null,
    @Inject(REDIS_COORDINATION) private readonly redis: RedisCoordination | null,
    private readonly log: SingleflightLog,
  ) {}

  /** Every provider exists now: the app's CACHE_MANAGER of another module is taken here. */
  onModuleInit(): void {
    settle(this.cache);
    if (this.choice.kind === 'embedded' && this.choice.hidden !== undefined) {
      this.log.warn(messages.APP_CACHE_HIDDEN(this.choice.hidden));
    }
  }

  onApplicationBootstrap(): void {
    const { metrics, debug } = this.options;
    this.log.log(
      `Cache: ${describeCache(this.choice)}. ` +
        `Redis: ${this.redis?.describe() ?? 'off (each instance on its own)'}. ` +
        `Metrics: ${metrics ? 'on' : 'off'}. Debug logs: ${debug ? 'on' : 'off'}.`,
    );
  }
}

function describeCache(choice: CacheChoice): string {
  switch (choice.kind) {
    case 'off':
      return 'off (cache: false)';
    case 'stores':
      return `${choice.count} Keyv store${choice.count === 1 ? '' : 's'} (cache.stores)`;
    case 'app':
      return "the app's CACHE_MANAGER";
    case 'embedded':
      return 'in-memory, in this instance only (no CACHE_MANAGER or cache.stores used)';
  }
}
