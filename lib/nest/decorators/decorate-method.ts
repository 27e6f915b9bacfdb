import { Inject } from '@nestjs/common';
import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';
import type { FlightRunner } from '../runner/flight-runner.js';
import { FlightRunner as FlightRunnerToken } from '../runner/flight-runner.js';
import { FLIGHT_METADATA, RUNNER_PROPERTY } from '../singleflight.constants.js';
import { type FlightMetadata, type KeySource, returnKind } from './flight-metadata.js';
import { scopeOf } from './flight-scope.js';
import { assertDefaultKeyFits } from './default-key-check.js';

/**
 * Replaces the method with a wrapper that hands each call to the app's FlightRunner. The runner is
 * reached through a hidden property that Nest injects into every instance (request-scoped ones
 * too), so each app has its own engine and the router, which keeps the method it found at start-up,
 * still calls the wrapper.
 */
export function decorateMethod(
  decorator: FlightMetadata['decorator'],
  keySource: KeySource,
  options: FlightMetadata['options'],
): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const className = typeof target === 'function' ? target.name : target.constructor.name;
    const where = `${className}.${String(propertyKey)}`;
    if (typeof target === 'function') {
      throw new SingleflightOptionsError(messages.STATIC_METHOD(decorator, where));
    }
    const original = descriptor.value as unknown;
    if (typeof original !== 'function') {
      throw new SingleflightOptionsError(messages.NOT_A_METHOD(decorator, where));
    }
    if (Reflect.hasOwnMetadata(FLIGHT_METADATA, original)) {
      throw new SingleflightOptionsError(messages.DECORATED_TWICE(where));
    }
    const returns = returnKind(target, propertyKey);
    if (returns !== 'promise' && returns !== 'observable' && returns !== 'unknown') {
      throw new SingleflightOptionsError(messages.SYNC_METHOD(decorator, where, returns));
    }
    if (keySource === undefined) assertDefaultKeyFits(decorator, target, propertyKey, where);
    Inject(FlightRunnerToken)(target, RUNNER_PROPERTY);
    const meta: FlightMetadata = {
      decorator,
      scope: scopeOf(decorator, className, propertyKey, options.scope),
      keySource,
      returns,
      options,
    };
    const method = original as (...args: unknown[]) => unknown;
    const wrapped = function (this: Record<symbol, FlightRunner | undefined>, ...args: unknown[]) {
      const runner = this?.[RUNNER_PROPERTY];
      // An instance Nest did not build (`new Service()` in a unit test) just runs the method.
      return runner === undefined
        ? method.apply(this, args)
        : runner.call(meta, this, method, args);
    };
    Object.defineProperty(wrapped, 'name', { value: method.name });
    // Decorators applied before this one (@Get, @UseGuards...) put their metadata on the original.
    for (const key of Reflect.getOwnMetadataKeys(method)) {
      Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, method), wrapped);
    }
    Reflect.defineMetadata(FLIGHT_METADATA, meta, wrapped);
    descriptor.value = wrapped as typeof descriptor.value;
    return descriptor;
  };
}
