import { Logger, type Provider } from '@nestjs/common';
import { type Cache, createCache } from 'cache-manager';
import { FlightCache } from '../cache/flight-cache.js';
import { Group } from '../core/group.js';
import {
  BOOLEAN,
  DURATION,
  type OptionRule,
  isPlainObject,
  validateOptions,
} from '../core/options.validator.js';
import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import * as messages from '../core/singleflight.messages.js';
import { RETRY, WriteGroup } from '../core/write-group.js';
import { ObservableGroup } from '../rx/observable-group.js';
import type { SingleflightModuleOptions } from './interfaces/singleflight-module-options.interface.js';
import { CACHE_MANAGER, DEFAULT_CACHE_TIMEOUT } from './singleflight.constants.js';
import { MODULE_OPTIONS_TOKEN } from './singleflight.module-definition.js';

const CACHE: OptionRule = [
  'false or { stores?, timeout? }',
  (v) => v === false || isPlainObject(v),
];
const MODULE_RULES = {
  timeout: DURATION,
  forgetAfter: DURATION,
  shareErrors: BOOLEAN,
  ttl: DURATION,
  refreshThreshold: DURATION,
  detectAsyncReentry: BOOLEAN,
  retry: RETRY,
  cache: CACHE,
} as const;
const CACHE_RULES = {
  stores: ['an array of Keyv instances', Array.isArray],
  timeout: DURATION,
} as const satisfies Record<string, OptionRule>;

/** Checks the module options once, at start-up, for forRoot and forRootAsync alike. */
function validated(options: SingleflightModuleOptions): SingleflightModuleOptions {
  const where = 'SingleflightModule.forRoot()';
  validateOptions(where, options, MODULE_RULES);
  if (options.cache !== false) validateOptions(`${where} cache`, options.cache, CACHE_RULES);
  if (options.cache === false && options.ttl) {
    throw new SingleflightOptionsError(messages.TTL_WITHOUT_CACHE(where));
  }
  return options;
}

export const singleflightProviders: Provider[] = [
  {
    provide: Group,
    inject: [MODULE_OPTIONS_TOKEN],
    useFactory: (options: SingleflightModuleOptions) => {
      const { forgetAfter, shareErrors, detectAsyncReentry } = validated(options);
      return new Group({ forgetAfter, shareErrors, detectAsyncReentry });
    },
  },
  {
    provide: WriteGroup,
    inject: [MODULE_OPTIONS_TOKEN],
    useFactory: (options: SingleflightModuleOptions) => new WriteGroup({ retry: options.retry }),
  },
  { provide: ObservableGroup, useFactory: () => new ObservableGroup() },
  {
    provide: FlightCache,
    inject: [MODULE_OPTIONS_TOKEN, { token: CACHE_MANAGER, optional: true }],
    useFactory: (options: SingleflightModuleOptions, appCache?: Cache): FlightCache | null => {
      const settings = options.cache;
      if (settings === false) return null;
      const logger = new Logger('Singleflight');
      const flightOptions = {
        timeout: settings?.timeout ?? DEFAULT_CACHE_TIMEOUT,
        logger: {
          warn: (message: string, error: unknown) => logger.warn(`${message} ${String(error)}`),
        },
      };
      if (settings?.stores !== undefined) {
        return new FlightCache(createCache({ stores: settings.stores }), {
          ...flightOptions,
          local: false,
        });
      }
      if (appCache) return new FlightCache(appCache, { ...flightOptions, local: false });
      // The embedded default: no one else writes it, so a local mirror may answer hits.
      return new FlightCache(createCache(), { ...flightOptions, local: true });
    },
  },
];
