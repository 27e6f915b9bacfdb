import {
  BOOLEAN,
  DURATION,
  POSITIVE_MS,
  type OptionRule,
  isPositiveInt,
  forTimer,
  validateOptions,
} from '../../core/options.validator.js';
import { CODECS } from '../../cache/cache-options.js';
import { ValueCodec } from '../../cache/value-codec.js';
import { NAMESPACE, REDIS_TTL_MS, SECRET } from '../coordinator/coordinator.interface.js';
import { withDefaults } from '../shared/engine-options.js';
import type { DistributedFlightOptions } from './distributed-flight.interfaces.js';

const RULES = {
  namespace: NAMESPACE,
  leaseMs: forTimer(POSITIVE_MS),
  resultTtlMs: REDIS_TTL_MS,
  reuseRecentResult: BOOLEAN,
  waitTimeoutMs: DURATION,
  breakerMs: DURATION,
  wakeSlackMs: DURATION,
  maxResultBytes: ['an integer number of bytes >= 1', isPositiveInt] as OptionRule,
  secret: SECRET,
  codecs: CODECS,
} as const;

/** The options a DistributedFlight runs with: each one given, or its default. */
export type FlightSettings = Required<Omit<DistributedFlightOptions, 'secret' | 'codecs'>> &
  Pick<DistributedFlightOptions, 'secret'> & {
    /** The codec of results, made of `codecs`. */
    codec: ValueCodec;
  };

const DEFAULTS: FlightSettings = {
  namespace: 'sf',
  leaseMs: 5000,
  resultTtlMs: 2000,
  reuseRecentResult: true,
  waitTimeoutMs: 30_000,
  breakerMs: 5000,
  wakeSlackMs: 50,
  maxResultBytes: 1 << 20,
  secret: undefined,
  codec: new ValueCodec(),
};

/** Checks `options` (a SingleflightOptionsError names the bad one) and fills in the defaults. */
export function flightSettings(options: DistributedFlightOptions): FlightSettings {
  validateOptions('DistributedFlight options', options, RULES);
  const { codecs, ...rest } = options;
  const codec = new ValueCodec(codecs, 'DistributedFlight options');
  return { ...withDefaults(DEFAULTS, rest), codec };
}
