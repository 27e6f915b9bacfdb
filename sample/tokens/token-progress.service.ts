import { Injectable } from '@nestjs/common';
import { SingleFlight } from 'nestjs-singleflight';
import {
  Observable,
  catchError,
  defer,
  from,
  interval,
  map,
  merge,
  share,
  takeUntil,
  throwError,
} from 'rxjs';
import { TokenBackend } from './token-backend.js';
import type { TokenProgress } from './token.interfaces.js';
import { asHttpError } from './unsupported-region.error.js';

/** A token fetched through an RxJS pipeline that reports progress while the auth server works. */
@Injectable()
export class TokenProgressService {
  #upstreamSubscriptions = 0;

  constructor(private readonly backend: TokenBackend) {}

  /**
   * Subscribers that arrive while the pipeline runs share ONE upstream subscription (one backend
   * call). Each receives the latest value emitted before it joined (the default `replay: 1`), then
   * every later one, the token included.
   */
  @SingleFlight((region: string, business: string) => `${region}/${business}`)
  progress$(region: string, business: string): Observable<TokenProgress> {
    return defer(() => {
      this.#upstreamSubscriptions++;
      const startedAt = Date.now();
      const issued$ = from(this.backend.fetchToken(region, business)).pipe(
        map((token): TokenProgress => ({
          status: 'issued',
          region,
          business,
          token,
          issuedAt: new Date().toISOString(),
        })),
        catchError((error: unknown) => throwError(() => asHttpError(error))),
        share(),
      );
      // A few ticks while the backend works, then the token.
      const waiting$ = interval(this.backend.latencyOf(region) / 4).pipe(
        map((): TokenProgress => ({ status: 'waiting', elapsedMs: Date.now() - startedAt })),
        takeUntil(issued$),
      );
      return merge(waiting$, issued$);
    });
  }

  /** Subscriptions made to the pipeline itself (not to the shared Observable). */
  upstreamSubscriptions(): number {
    return this.#upstreamSubscriptions;
  }
}
