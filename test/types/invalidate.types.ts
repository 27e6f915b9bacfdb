/**
 * Compile-time tests of the typed `FlightCache.invalidate(Class, method, ...args)`: checked by
 * `npm run typecheck`, never run (see decorators.types.ts).
 */
import type { Observable } from 'rxjs';
import { FlightCache, SingleFlight } from '../../lib/index.js';

class TokenService {
  @SingleFlight((region: string, business: string) => `${region}/${business}`, { ttl: 60_000 })
  async token(region: string, business: string): Promise<string> {
    return `${region}/${business}`;
  }

  @SingleFlight({ ttl: 60_000 })
  async page(id: string, page?: number): Promise<string> {
    return `${id}/${page ?? 1}`;
  }

  @SingleFlight((id: string) => id)
  stream(id: string): Observable<string> {
    throw new Error(id);
  }

  region = 'eu';

  sync(id: string): string {
    return id;
  }
}

abstract class Repository {
  @SingleFlight({ ttl: 60_000 })
  async find(id: number): Promise<string> {
    return String(id);
  }
}

export async function compiles(cache: FlightCache): Promise<void> {
  await cache.invalidate(TokenService, 'token', 'eu', 'shop');
  await cache.invalidate(TokenService, 'page', 'a');
  await cache.invalidate(TokenService, 'page', 'a', 2);
  await cache.invalidate(Repository, 'find', 1);
  // The string form, for advanced use.
  await cache.invalidate('TokenService.token:eu/shop');
}

export async function mistakes(cache: FlightCache): Promise<void> {
  // A method name the class does not have.
  // @ts-expect-error 'tokn' is not a method of TokenService
  await cache.invalidate(TokenService, 'tokn', 'eu', 'shop');
  // An argument of another type than the method's parameter.
  // @ts-expect-error 1 is not a string
  await cache.invalidate(TokenService, 'token', 'eu', 1);
  // Fewer arguments than the method's required parameters.
  // @ts-expect-error business is missing
  await cache.invalidate(TokenService, 'token', 'eu');
  // More arguments than the method's parameters.
  // @ts-expect-error the method takes two
  await cache.invalidate(TokenService, 'token', 'eu', 'shop', 'extra');
  // An Observable method: its values are never cached.
  // @ts-expect-error only methods that return a Promise
  await cache.invalidate(TokenService, 'stream', 'a');
  // A property, and a synchronous method.
  // @ts-expect-error region is no method
  await cache.invalidate(TokenService, 'region');
  // @ts-expect-error only methods that return a Promise
  await cache.invalidate(TokenService, 'sync', 'a');
  // The string form takes the key alone.
  // @ts-expect-error no arguments after a key
  await cache.invalidate('TokenService.token:eu/shop', 'eu');
}
