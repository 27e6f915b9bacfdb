import type { CallKey, ClassOf } from '../cache/method-call.js';
import { SingleflightArgumentError } from '../core/singleflight.errors.js';
import * as messages from './nest.messages.js';
import { type FlightMetadata, keyPartOf } from './decorators/flight-metadata.js';
import type { SingleflightModuleOptions } from './interfaces/singleflight-module-options.interface.js';
import type { SingleFlightOptions } from './interfaces/flight-options.interface.js';
import { FLIGHT_METADATA } from './singleflight.constants.js';

/**
 * The keys of `@SingleFlight()` calls named by class, method and arguments, for the typed
 * `FlightCache.invalidate(Class, method, ...args)`. A key is built exactly as a call of the method
 * builds it: its scope, its key (string, key function or the arguments) and, unless the method
 * opted out, the module's `keyContext` read now, in the caller's context.
 *
 * A key function is called with `this`. For a class the app holds one instance of (a singleton
 * registered once), `this` is that instance, as for the app's calls. A class with an instance per
 * request, per consumer (transient) or per registration has no one `this`: there, a key function
 * that can read `this` (one declared with `function`) is refused, since the key of another
 * instance's calls cannot be built without it; an arrow function has no `this` of its own.
 */
export class MethodKeys {
  /** Each class's instance in the app, by prototype; null: it has several, or one per request. */
  readonly #instances = new Map<object, object | null>();

  constructor(private readonly options: SingleflightModuleOptions) {}

  /** Records an instance of a class; a class with a second one, or one per request, has none. */
  add(prototype: object, instance: object | null): void {
    this.#instances.set(prototype, this.#instances.has(prototype) ? null : instance);
  }

  readonly keyOf: CallKey = (type, method, args) => {
    const where = `${type.name}.${String(method)}`;
    const meta = flightOf(type, method);
    if (meta?.decorator !== 'SingleFlight') {
      throw new SingleflightArgumentError(messages.NOT_A_FLIGHT(where, meta?.decorator));
    }
    if (!this.#cached(meta)) throw new SingleflightArgumentError(messages.NOT_CACHED(where));
    const self = this.#instances.get(type.prototype as object) ?? null;
    const source = meta.keySource;
    if (self === null && typeof source === 'function' && Object.hasOwn(source, 'prototype')) {
      throw new SingleflightArgumentError(messages.KEY_FN_WITHOUT_THIS(where, meta.scope));
    }
    const context = meta.options.keyContext === false ? undefined : this.options.keyContext;
    return `${meta.scope}:${keyPartOf(meta, self ?? {}, args, context)}`;
  };

  /** Whether the method's values are cached in this app: a ttl (its own, else the module's). */
  #cached(meta: FlightMetadata): boolean {
    const ttl = (meta.options as SingleFlightOptions).ttl ?? this.options.ttl;
    return meta.returns !== 'observable' && ttl !== undefined && ttl !== 0;
  }
}

/** The decorator's metadata of `type.prototype[method]`, or undefined when it has none. */
function flightOf(type: ClassOf<object>, method: string): FlightMetadata | undefined {
  const prototype = (type as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  const fn = typeof method === 'string' ? prototype?.[method] : undefined;
  if (typeof fn !== 'function') return undefined;
  return Reflect.getMetadata(FLIGHT_METADATA, fn) as FlightMetadata | undefined;
}
