import { MODULE_MISSING } from './nest.messages.js';

/** Metadata key of the method decorators (on the wrapped function). */
export const FLIGHT_METADATA = 'singleflight:flight';

/**
 * The hidden property through which a decorated class gets the app's FlightRunner. Nest's error
 * for a missing provider shows only this key, so its description is the fix.
 */
export const RUNNER_PROPERTY = Symbol(MODULE_MISSING);

/** Nest's cache token (`@nestjs/cache-manager`), injected optionally without importing that package. */
export const CACHE_MANAGER = 'CACHE_MANAGER';

/** Where this app's FlightCache keeps values (a CacheChoice), for the start-up line. */
export const CACHE_CHOICE = Symbol('SingleflightCacheChoice');

/** How long (ms) a cache store read may take before the work runs without it. */
export const DEFAULT_CACHE_TIMEOUT = 1000;

/** The app's FlightObserver (metrics, debug logs), or null when both are off. */
export const FLIGHT_OBSERVER = Symbol('SingleflightFlightObserver');

/** This app's RedisCoordination, or null without `forRoot({ redis })`. */
export const REDIS_COORDINATION = Symbol('SingleflightRedisCoordination');

/** The module's options, checked (the providers read them through this, never unchecked). */
export const OPTIONS = Symbol('SingleflightOptions');
