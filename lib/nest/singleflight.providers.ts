import type { Provider } from '@nestjs/common';
import { CODECS, KEYV_STORES, STORE_TIMEOUT } from '../cache/cache-options.js';
import { ValueCodec } from '../cache/value-codec.js';
import { Group } from '../core/group.js';
import {
  BOOLEAN,
  DURATION,
  FUNCTION,
  POSITIVE_DURATION,
  type OptionRule,
  isPlainObject,
  forTimer,
  validateOptions,
} from '../core/options.validator.js';
import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import * as messages from './nest.messages.js';
import * as coreMessages from '../core/singleflight.messages.js';
import { RETRY, WriteGroup } from '../core/write-group.js';
import { PrometheusObserver } from './observe/prometheus.observer.js';
import { ObservableGroup, REPLAY } from '../rx/observable-group.js';
import { FanOutObserver } from './observe/fan-out.observer.js';
import type { FlightObserver } from './observe/flight-observer.js';
import type { SingleflightModuleOptions } from './interfaces/singleflight-module-options.interface.js';
import { LoggingObserver } from './observe/logging.observer.js';
import { NAMESPACE, SECRET } from '../redis/coordinator/coordinator.interface.js';
import { RedisCoordination } from './redis-coordination.js';
import { cacheProviders } from './app-cache.js';
import { SingleflightLog } from './singleflight-log.js';
import { FLIGHT_OBSERVER, OPTIONS, REDIS_COORDINATION } from './singleflight.constants.js';
import { MODULE_OPTIONS_TOKEN } from './singleflight.module-definition.js';
import { MODULE_CALL } from './module-call.js';

const CACHE: OptionRule = [
  'false or { stores?, timeout? }',
  (v) => v === false || isPlainObject(v),
];
const METRICS: OptionRule = [
  'true, false or { registry?, prefix?, buckets? }',
  (v) => typeof v === 'boolean' || isPlainObject(v),
];
const MODULE_RULES = {
  timeout: forTimer(DURATION),
  forgetAfter: DURATION,
  shareErrors: BOOLEAN,
  ttl: DURATION,
  refreshThreshold: DURATION,
  replay: REPLAY,
  detectAsyncReentry: BOOLEAN,
  retry: RETRY,
  cache: CACHE,
  metrics: METRICS,
  debug: BOOLEAN,
  keyContext: FUNCTION,
  codecs: CODECS,
  redis: [
    '{ namespace, url | client | coordinator, opTimeoutMs?, secret?, flights?, writes? }',
    isPlainObject,
  ],
} as const;
const REDIS_RULES = {
  namespace: NAMESPACE,
  secret: SECRET,
  url: [
    'a Redis URL (redis://host:port or rediss://...)',
    (v) => typeof v === 'string' && /^rediss?:\/\/./i.test(v),
  ],
  client: ['a connected node-redis or ioredis client', isPlainObject],
  coordinator: ['a RedisCoordinator (e.g. nodeRedisAdapter(client))', isPlainObject],
  opTimeoutMs: forTimer(POSITIVE_DURATION),
  flights: ['false or DistributedFlight options', (v) => v === false || isPlainObject(v)],
  writes: ['false or DistributedWriteGroup options', (v) => v === false || isPlainObject(v)],
} as const satisfies Record<string, OptionRule>;
const CACHE_RULES = {
  stores: KEYV_STORES,
  timeout: STORE_TIMEOUT,
} as const satisfies Record<string, OptionRule>;
const METRICS_RULES = {
  registry: [
    'a prom-client Registry',
    (v) =>
      isPlainObject(v) &&
      typeof v.registerMetric === 'function' &&
      typeof v.getSingleMetric === 'function' &&
      typeof v.removeSingleMetric === 'function',
  ],
  prefix: [
    'a metric name prefix (letters, digits, "_" and ":", not starting with a digit)',
    (v) => typeof v === 'string' && /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(v),
  ],
  buckets: [
    'a non-empty array of increasing finite numbers (seconds)',
    (v) =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((b, i) => Number.isFinite(b) && (i === 0 || b > (v[i - 1] as number))),
  ],
} as const satisfies Record<string, OptionRule>;

/**
 * Checks the module options once, at start-up, for forRoot and forRootAsync alike; `call` names
 * the one the user called. Every provider reads the options through it, so none sees bad ones.
 */
function validated(options: SingleflightModuleOptions, call: string): SingleflightModuleOptions {
  // A useFactory that forgot its `return` (anything else that is no object, validateOptions says).
  if ((options as SingleflightModuleOptions | undefined) === undefined) {
    throw new SingleflightOptionsError(
      coreMessages.BAD_OPTION(call, 'options', 'an object', options),
    );
  }
  validateOptions(call, options, MODULE_RULES);
  // Made here for its checks, so that a malformed codec names the call.
  new ValueCodec(options.codecs, `codecs of ${call}`);
  if (options.cache !== false) validateOptions(`${call} cache`, options.cache, CACHE_RULES);
  if (typeof options.metrics === 'object') {
    validateOptions(`${call} metrics`, options.metrics, METRICS_RULES);
  }
  if (options.redis !== undefined) validateOptions(`${call} redis`, options.redis, REDIS_RULES);
  if (options.cache === false && options.ttl) {
    throw new SingleflightOptionsError(messages.TTL_WITHOUT_CACHE(call));
  }
  const { ttl, refreshThreshold } = options;
  if (ttl && refreshThreshold !== undefined && refreshThreshold >= ttl) {
    throw new SingleflightOptionsError(messages.REFRESH_NOT_BELOW_TTL(call, refreshThreshold, ttl));
  }
  return options;
}

export const singleflightProviders: Provider[] = [
  { provide: OPTIONS, inject: [MODULE_OPTIONS_TOKEN, MODULE_CALL], useFactory: validated },
  {
    provide: Group,
    inject: [OPTIONS],
    useFactory: (options: SingleflightModuleOptions) => {
      const { forgetAfter, shareErrors, detectAsyncReentry } = options;
      return new Group({ forgetAfter, shareErrors, detectAsyncReentry });
    },
  },
  {
    provide: WriteGroup,
    inject: [OPTIONS],
    useFactory: (options: SingleflightModuleOptions) => {
      const { retry, detectAsyncReentry } = options;
      return new WriteGroup({ retry, detectAsyncReentry });
    },
  },
  {
    provide: ObservableGroup,
    inject: [OPTIONS],
    useFactory: (options: SingleflightModuleOptions) =>
      new ObservableGroup({ replay: options.replay }),
  },
  // The app's log: every provider that logs writes through it, so the app's end silences them all.
  SingleflightLog,
  ...cacheProviders,
  {
    // Null without `redis`: every flight and write then stays in this instance.
    provide: REDIS_COORDINATION,
    inject: [OPTIONS, SingleflightLog, MODULE_CALL],
    useFactory: async (
      options: SingleflightModuleOptions,
      log: SingleflightLog,
      call: string,
    ): Promise<RedisCoordination | null> => {
      const { redis, detectAsyncReentry, codecs } = options;
      return redis === undefined
        ? null
        : RedisCoordination.create(redis, log, detectAsyncReentry, call, codecs);
    },
  },
  {
    // Null when metrics and debug logs are off: the runner then adds nothing to any call.
    provide: FLIGHT_OBSERVER,
    inject: [OPTIONS, SingleflightLog],
    useFactory: async (
      options: SingleflightModuleOptions,
      log: SingleflightLog,
    ): Promise<FlightObserver | null> => {
      const { metrics, debug } = options;
      const observers: FlightObserver[] = [];
      if (metrics) {
        observers.push(await PrometheusObserver.create(metrics === true ? {} : metrics));
      }
      if (debug) observers.push(new LoggingObserver(log));
      if (observers.length === 0) return null;
      return observers.length === 1 ? observers[0]! : new FanOutObserver(observers);
    },
  },
];
