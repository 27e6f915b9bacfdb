import {
  BOOLEAN,
  DURATION,
  FUNCTION,
  type OptionRule,
  forTimer,
  validateOptions,
} from '../../core/options.validator.js';
import { REPLAY } from '../../rx/observable-group.js';
import type { SingleFlightOptions } from '../interfaces/flight-options.interface.js';
import { decorateMethod } from './decorate-method.js';
import type { KeyedMethodDecorator } from './decorator-types.js';

export type { KeyedMethodDecorator } from './decorator-types.js';
import { type FlightMetadata, type KeySource } from './flight-metadata.js';
import { SCOPE } from './flight-scope.js';
import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';

const TTL: OptionRule = [
  'a number of milliseconds >= 0 or a function of the value',
  (v) => typeof v === 'function' || (typeof v === 'number' && v >= 0 && Number.isFinite(v)),
];
export const SINGLE_FLIGHT_RULES = {
  timeout: forTimer(DURATION),
  forgetAfter: DURATION,
  shareErrors: BOOLEAN,
  ttl: TTL,
  refreshThreshold: DURATION,
  shouldCache: FUNCTION,
  replay: REPLAY,
  distributed: BOOLEAN,
  keyContext: BOOLEAN,
  scope: SCOPE,
  shareAcrossRequests: BOOLEAN,
} as const;

/**
 * Concurrent calls with the same key share one execution of the method.
 *
 * - `@SingleFlight()`: the key is a stable serialization of the arguments (plain data only).
 * - `@SingleFlight('config')`: one key for every call.
 * - `@SingleFlight((region: string, business: string) => `${region}/${business}`)`: a key function,
 *   typed against the method's parameters.
 *
 * Keys are scoped by class and method. A method that returns an Observable gets a shared Observable.
 *
 * ```ts
 * @Injectable()
 * export class TokenService {
 *   @SingleFlight((region: string) => region, { ttl: 30_000 })
 *   async token(region: string): Promise<Token> {
 *     return this.auth.fetchToken(region); // once per region, however many callers
 *   }
 * }
 * ```
 * @publicApi
 */
export function SingleFlight(options?: SingleFlightOptions<unknown>): MethodDecorator;
export function SingleFlight<T>(options: SingleFlightOptions<T>): KeyedMethodDecorator<any[], T>;
export function SingleFlight(key: string, options?: SingleFlightOptions<unknown>): MethodDecorator;
export function SingleFlight<T>(
  key: string,
  options: SingleFlightOptions<T>,
): KeyedMethodDecorator<any[], T>;
export function SingleFlight<A extends unknown[], T = unknown>(
  key: (...args: A) => string,
  options?: SingleFlightOptions<T>,
): KeyedMethodDecorator<A, T>;
export function SingleFlight(
  keyOrOptions?: string | ((...args: any[]) => string) | SingleFlightOptions,
  options?: SingleFlightOptions,
): MethodDecorator {
  const [key, opts] = splitArguments<SingleFlightOptions>('SingleFlight', keyOrOptions, options);
  validateOptions('@SingleFlight() options', opts, SINGLE_FLIGHT_RULES);
  return decorateMethod('SingleFlight', key, opts);
}

/** `(key, options)`, `(options)` or `()`: which is which; anything else is refused. */
export function splitArguments<O extends object>(
  decorator: FlightMetadata['decorator'],
  keyOrOptions: string | ((...args: any[]) => string) | O | undefined,
  options: O | undefined,
): [KeySource, O] {
  if (typeof keyOrOptions === 'string' || typeof keyOrOptions === 'function') {
    return [keyOrOptions as KeySource, options ?? ({} as O)];
  }
  if (keyOrOptions !== undefined && (typeof keyOrOptions !== 'object' || keyOrOptions === null)) {
    throw new SingleflightOptionsError(messages.KEY_ARGUMENT(decorator, keyOrOptions));
  }
  if (keyOrOptions !== undefined && options !== undefined) {
    throw new SingleflightOptionsError(messages.OPTIONS_TWICE(decorator));
  }
  return [undefined, keyOrOptions ?? options ?? ({} as O)];
}
