import type { DynamicModule } from '@nestjs/common';
import {
  BOOLEAN,
  FUNCTION,
  type OptionRule,
  isPlainObject,
  validateOptions,
} from '../core/options.validator.js';
import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import * as coreMessages from '../core/singleflight.messages.js';
import * as messages from './nest.messages.js';

/** The name of what the user called (`SingleflightModule.forRoot()` or `...forRootAsync()`). */
export const MODULE_CALL = Symbol('SingleflightModuleCall');

export const FOR_ROOT = 'SingleflightModule.forRoot()';
export const FOR_ROOT_ASYNC = 'SingleflightModule.forRootAsync()';

const OPTIONS_FACTORY: OptionRule = [
  'a class with a createSingleflightOptions() method',
  (v) =>
    typeof v === 'function' &&
    typeof (v.prototype as { createSingleflightOptions?: unknown } | undefined)
      ?.createSingleflightOptions === 'function',
];
const ARRAY: OptionRule = ['an array', Array.isArray];
const ASYNC_RULES = {
  useFactory: FUNCTION,
  useClass: OPTIONS_FACTORY,
  useExisting: OPTIONS_FACTORY,
  inject: ARRAY,
  imports: ARRAY,
  provideInjectionTokensFrom: ARRAY,
  isGlobal: BOOLEAN,
} as const;

/**
 * Checks what only forRoot() sees: that it got an object, and `isGlobal`, which Nest takes out
 * of the options before the providers read them. The options themselves are checked when the
 * app starts, as those of forRootAsync() are.
 */
export function checkForRoot(options: unknown): void {
  if (!isPlainObject(options)) {
    throw new SingleflightOptionsError(
      coreMessages.BAD_OPTION(FOR_ROOT, 'options', 'an object', options),
    );
  }
  validateOptions(FOR_ROOT, { isGlobal: options.isGlobal }, { isGlobal: BOOLEAN });
}

/**
 * Checks forRootAsync()'s own options: Nest would take an unknown name (a module option put here
 * instead of in the factory's result, a misspelled `useFactory`) for an extra and ignore it.
 */
export function checkForRootAsync(options: unknown): void {
  if (isPlainObject(options)) {
    const given = Object.keys(options).filter((name) => !Object.hasOwn(ASYNC_RULES, name));
    if (given.length > 0) {
      throw new SingleflightOptionsError(messages.ASYNC_UNKNOWN_OPTION(FOR_ROOT_ASYNC, given[0]!));
    }
  }
  validateOptions(FOR_ROOT_ASYNC, options, ASYNC_RULES);
  const sources = ['useFactory', 'useClass', 'useExisting'].filter(
    (name) => (options as Record<string, unknown>)[name] !== undefined,
  );
  if (sources.length !== 1) {
    throw new SingleflightOptionsError(messages.ASYNC_SOURCE(FOR_ROOT_ASYNC, sources));
  }
}

/** The module with the name of the call that made it, for the messages of its option checks. */
export function calledAs(module: DynamicModule, call: string): DynamicModule {
  return {
    ...module,
    providers: [...(module.providers ?? []), { provide: MODULE_CALL, useValue: call }],
  };
}
