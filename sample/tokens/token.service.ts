import { Injectable } from '@nestjs/common';
import { SingleFlight } from 'nestjs-singleflight';
import { config } from '../config.js';
import { TokenBackend } from './token-backend.js';
import type { TokenDto } from './token.interfaces.js';
import { asHttpError } from './unsupported-region.error.js';

@Injectable()
export class TokenService {
  constructor(private readonly backend: TokenBackend) {}

  /**
   * Concurrent callers for one region and business share one backend call, and the token is then
   * cached for TOKEN_TTL_MS. A refusal (HTTP 400) is shared by that flight's callers and never
   * cached: the next call asks again.
   */
  @SingleFlight((region: string, business: string) => `${region}/${business}`, {
    ttl: config.tokenTtlMs,
  })
  async getToken(region: string, business: string): Promise<TokenDto> {
    return this.issue(region, business);
  }

  /** The same call without the decorator, to compare: every caller makes its own backend call. */
  async getTokenWithoutSingleflight(region: string, business: string): Promise<TokenDto> {
    return this.issue(region, business);
  }

  private async issue(region: string, business: string): Promise<TokenDto> {
    try {
      const token = await this.backend.fetchToken(region, business);
      return { region, business, token, issuedAt: new Date().toISOString() };
    } catch (error) {
      throw asHttpError(error);
    }
  }
}
