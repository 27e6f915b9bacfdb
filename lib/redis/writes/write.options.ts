import {
  BOOLEAN,
  DURATION,
  FUNCTION,
  POSITIVE_DURATION,
  type OptionRule,
  forTimer,
  validateOptions,
} from '../../core/options.validator.js';
import { RETRY } from '../../core/retry.js';
import { CODECS } from '../../cache/cache-options.js';
import { ValueCodec } from '../../cache/value-codec.js';
import { NAMESPACE, REDIS_TTL_MS, SECRET } from '../coordinator/coordinator.interface.js';
import { withDefaults } from '../shared/engine-options.js';
import type { DistributedWriteOptions } from './distributed-write-group.interfaces.js';
import { isLedger } from './write-ledger.js';

const RULES = {
  namespace: NAMESPACE,
  leaseMs: forTimer([
    'an integer number of milliseconds >= 3',
    (v) => Number.isInteger(v) && Number(v) >= 3,
  ]),
  sweepEveryMs: forTimer(DURATION),
  waitTimeoutMs: forTimer(POSITIVE_DURATION),
  breakerMs: forTimer(DURATION),
  recoverSlackMs: forTimer(DURATION),
  stateTtlMs: REDIS_TTL_MS,
  retry: RETRY,
  ledger: ['an object with started, finished and pending functions', isLedger],
  detectAsyncReentry: BOOLEAN,
  secret: SECRET,
  codecs: CODECS,
} as const satisfies Record<string, OptionRule>;

const CALL_RULES = {
  args: ['an array', Array.isArray],
  version: FUNCTION,
} as const satisfies Record<string, OptionRule>;

/** The options a DistributedWriteGroup runs with: each one given, or its default. */
export type WriteSettings = Required<
  Omit<DistributedWriteOptions, 'ledger' | 'secret' | 'codecs'>
> &
  Pick<DistributedWriteOptions, 'ledger' | 'secret'> & {
    /** The codec of the arguments, made of `codecs`. */
    codec: ValueCodec;
  };

const DEFAULTS: WriteSettings = {
  namespace: 'mw',
  leaseMs: 10_000,
  sweepEveryMs: 60_000,
  waitTimeoutMs: 30_000,
  breakerMs: 5_000,
  recoverSlackMs: 50,
  stateTtlMs: 7 * 24 * 3_600_000,
  retry: { attempts: 3, backoffMs: 100 },
  ledger: undefined,
  detectAsyncReentry: false,
  secret: undefined,
  codec: new ValueCodec(),
};

/** Checks `options` (a SingleflightOptionsError names the bad one) and fills in the defaults. */
export function writeSettings(options: DistributedWriteOptions): WriteSettings {
  validateOptions('DistributedWriteGroup options', options, RULES);
  const { codecs, ...rest } = options;
  const codec = new ValueCodec(codecs, 'DistributedWriteGroup options');
  return { ...withDefaults(DEFAULTS, rest), codec };
}

/** Checks the options of one call. */
export function checkCallOptions(options: object): void {
  validateOptions('MergeWrites call options', options, CALL_RULES);
}
