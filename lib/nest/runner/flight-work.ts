import { HttpException } from '@nestjs/common';
import type { FlightCache } from '../../cache/flight-cache.js';
import type { CachePolicy } from '../../cache/flight-cache.interfaces.js';
import { type DistributedFlight, MISS_SENTINEL } from '../../redis/flight/distributed-flight.js';
import { isRemoteError } from '../../redis/flight/remote-flight.error.js';

/**
 * What a method's flight does around the method's own run, chosen once per method: go through
 * the cache, share the run with the other instances through Redis, or both (the cache outside:
 * a hit needs no Redis round trip).
 */
export interface FlightWork {
  /** The work of the flight of `key` (a whole key) that calls `run` when it must. */
  around(key: string, run: () => unknown): () => unknown;
}

/** The flight reads the cache first and stores what `inner` (or the run) gives, per `policy`. */
export class CachedWork implements FlightWork {
  constructor(
    private readonly cache: FlightCache,
    private readonly policy: CachePolicy,
    private readonly inner: FlightWork | undefined,
  ) {}

  around(key: string, run: () => unknown): () => unknown {
    const work = this.inner === undefined ? run : this.inner.around(key, run);
    return () => this.cache.load(key, work, this.policy);
  }
}

/**
 * The flight is shared with the other instances: the in-process flight wraps it, so Redis sees
 * one flight per instance. With a cache, a leader re-reads it first (another instance may have
 * just stored the value). An HTTP error from another instance is thrown here as an HttpException.
 */
export class FleetWork implements FlightWork {
  constructor(
    private readonly fleet: DistributedFlight,
    private readonly cache: FlightCache | undefined,
  ) {}

  around(key: string, run: () => unknown): () => unknown {
    const cache = this.cache;
    const recheck =
      cache === undefined
        ? undefined
        : async () => {
            const stored = await cache.stored(key);
            return stored === undefined ? MISS_SENTINEL : stored;
          };
    return () => this.fleet.run(key, async () => run(), recheck).catch(asHttpException);
  }
}

/**
 * Only a real HttpException keeps its status and body across instances; any other error reaches
 * Nest's filter as the RemoteFlightError, which carries the fields the filter reads, so every
 * instance answers as the leader's did.
 */
function asHttpException(error: unknown): never {
  if (isRemoteError(error) && error.httpException === true) {
    // `errorCode` is an option of Nest 12's HttpException; Nest 11 ignores it.
    const options = { cause: error, errorCode: error.errorCode };
    throw new HttpException(error.response as string | object, error.status!, options);
  }
  throw error;
}
