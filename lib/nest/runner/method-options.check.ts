import type { CachePolicy } from '../../cache/flight-cache.interfaces.js';
import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';
import type {
  MergeWritesOptions,
  SingleFlightOptions,
} from '../interfaces/flight-options.interface.js';

/**
 * What only the app can tell about a `@SingleFlight()` method's options (whether it is cached):
 * options for cached values on a method that is not cached would be ignored, and a refresh
 * threshold not below the ttl would refresh on every hit.
 */
export function checkCaching(
  where: string,
  own: SingleFlightOptions,
  policy: CachePolicy | undefined,
): void {
  if (policy === undefined) {
    for (const name of ['refreshThreshold', 'shouldCache'] as const) {
      if (own[name] !== undefined) {
        throw new SingleflightOptionsError(messages.CACHE_OPTION_WITHOUT_TTL(where, name));
      }
    }
    return;
  }
  const { ttl, refreshThreshold } = policy;
  if (typeof ttl === 'number' && refreshThreshold !== undefined && refreshThreshold >= ttl) {
    throw new SingleflightOptionsError(
      messages.REFRESH_NOT_BELOW_TTL(where, refreshThreshold, ttl),
    );
  }
}

/**
 * A distributed `@MergeWrites()` method retries with `redis.writes.retry`: its own would be ignored.
 * `merge` and `version` each decide which arguments a run carries: only one of them can.
 */
export function checkWrites(where: string, own: MergeWritesOptions, distributed: boolean): void {
  if (distributed && own.retry !== undefined) {
    throw new SingleflightOptionsError(messages.DISTRIBUTED_RETRY(where));
  }
  if (own.merge !== undefined && own.version !== undefined) {
    throw new SingleflightOptionsError(messages.MERGE_AND_VERSION(where));
  }
}
