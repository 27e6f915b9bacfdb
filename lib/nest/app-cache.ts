import { type Provider, Scope } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type Cache, createCache } from 'cache-manager';
import { FlightCache } from '../cache/flight-cache.js';
import { Group } from '../core/group.js';
import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import type { SingleflightModuleOptions } from './interfaces/singleflight-module-options.interface.js';
import * as messages from './nest.messages.js';
import { SingleflightLog } from './singleflight-log.js';
import {
  CACHE_CHOICE,
  CACHE_MANAGER,
  DEFAULT_CACHE_TIMEOUT,
  OPTIONS,
} from './singleflight.constants.js';

/**
 * Where the app's FlightCache keeps values, decided once, when the app's providers are made:
 * - `off`: `cache: false`;
 * - `stores`: the Keyv stores of `cache.stores`;
 * - `app`: the app's `CACHE_MANAGER` (`@nestjs/cache-manager`), global or not;
 * - `embedded`: the module's own in-memory cache; `hidden` says why an app's `CACHE_MANAGER`
 *   was not used (several are registered, or it is request-scoped).
 */
export type CacheChoice =
  | { kind: 'off' }
  | { kind: 'stores'; count: number }
  | { kind: 'app'; cache: () => Cache; injected: boolean }
  | { kind: 'embedded'; hidden?: 'several' | 'scoped' };

/**
 * The cache the module uses. `visible` is the app's `CACHE_MANAGER` when this module can inject
 * it (`CacheModule.register({ isGlobal: true })`). Otherwise it is looked up in every module of
 * the app: `CacheModule.register()` imported in the root module is found too. Its instance may not
 * exist yet while the providers are being made, so `cache()` gives it once they are.
 */
export function chooseCache(
  options: SingleflightModuleOptions,
  moduleRef: ModuleRef,
  visible: Cache | undefined,
): CacheChoice {
  const settings = options.cache;
  if (settings === false) return { kind: 'off' };
  if (settings?.stores !== undefined) return { kind: 'stores', count: settings.stores.length };
  if (visible !== undefined) return { kind: 'app', cache: () => visible, injected: true };
  let scope: Scope | undefined;
  try {
    scope = moduleRef.introspect(CACHE_MANAGER).scope;
  } catch {
    return { kind: 'embedded' }; // no module of the app registers one
  }
  let found: unknown[] | undefined;
  try {
    found = moduleRef.get(CACHE_MANAGER, { strict: false, each: true });
  } catch {
    // One of several is request-scoped: Nest gives no instance of it.
  }
  if (found === undefined || scope !== Scope.DEFAULT) return { kind: 'embedded', hidden: 'scoped' };
  if (found.length > 1) return { kind: 'embedded', hidden: 'several' };
  return {
    kind: 'app',
    injected: false,
    cache: () => {
      const cache = moduleRef.get<Cache | undefined>(CACHE_MANAGER, { strict: false });
      if (cache === undefined) throw new SingleflightOptionsError(messages.APP_CACHE_NOT_READY);
      return cache;
    },
  };
}

const builders = new WeakMap<object, () => FlightCache>();

/**
 * A FlightCache made on first use by `build`: what the app injects while the cache it needs (a
 * `CACHE_MANAGER` of another module) may not exist yet. Each property read goes to the one made.
 */
export function lateFlightCache(build: () => FlightCache): FlightCache {
  let made: FlightCache | undefined;
  const target = () => (made ??= build());
  const late = new Proxy(Object.create(FlightCache.prototype) as FlightCache, {
    get(_, name) {
      const cache = target();
      const value: unknown = Reflect.get(cache, name, cache);
      return typeof value === 'function' ? value.bind(cache) : value;
    },
    has: (_, name) => Reflect.has(target(), name),
    // Writes go to the one made too (the explorer gives it the app's key builder).
    set: (_, name, value) => Reflect.set(target(), name, value),
    defineProperty: (_, name, descriptor) => Reflect.defineProperty(target(), name, descriptor),
    deleteProperty: (_, name) => Reflect.deleteProperty(target(), name),
  });
  builders.set(late, target);
  return late;
}

/** Makes a late FlightCache now (at start-up, so that its errors fail the boot); else nothing. */
export function settle(cache: FlightCache | null): void {
  if (cache !== null) builders.get(cache)?.();
}

/** The app's CacheChoice, and its FlightCache (null with `cache: false`). */
export const cacheProviders: Provider[] = [
  {
    provide: CACHE_CHOICE,
    inject: [OPTIONS, ModuleRef, { token: CACHE_MANAGER, optional: true }],
    useFactory: chooseCache,
  },
  {
    provide: FlightCache,
    inject: [OPTIONS, SingleflightLog, Group, CACHE_CHOICE],
    useFactory: (
      options: SingleflightModuleOptions,
      log: SingleflightLog,
      group: Group,
      choice: CacheChoice,
    ): FlightCache | null => {
      if (choice.kind === 'off' || options.cache === false) return null;
      const settings = {
        timeout: options.cache?.timeout ?? DEFAULT_CACHE_TIMEOUT,
        logger: {
          warn: (message: string, error?: unknown) =>
            log.warn(error === undefined ? message : `${message} ${String(error)}`),
        },
        // invalidate(key) forgets the key's flight; group.forget(key) drops its cached value.
        group,
        codecs: options.codecs,
      };
      switch (choice.kind) {
        case 'stores':
          return new FlightCache(createCache({ stores: options.cache!.stores }), settings);
        case 'app':
          // A CACHE_MANAGER this module could inject exists already; one of another module may not.
          return choice.injected
            ? new FlightCache(choice.cache(), settings)
            : lateFlightCache(() => new FlightCache(choice.cache(), settings));
        case 'embedded':
          // No one else writes it, so a local mirror may answer hits.
          return new FlightCache(createCache(), { ...settings, local: true });
      }
    },
  },
];
