import { Controller, Get, Param, Query } from '@nestjs/common';
import { type Observable, toArray } from 'rxjs';
import { RequestCounter } from '../stats/request-counter.js';
import { RegionNamePipe } from './region-name.pipe.js';
import { TokenProgressService } from './token-progress.service.js';
import { TokenService } from './token.service.js';
import type { TokenDto, TokenProgress } from './token.interfaces.js';

@Controller('tokens')
export class TokensController {
  constructor(
    private readonly tokens: TokenService,
    private readonly progress: TokenProgressService,
    private readonly requests: RequestCounter,
  ) {}

  /** `?singleflight=off` takes the undecorated path, to compare the two side by side. */
  @Get(':region/:business')
  getToken(
    @Param('region', RegionNamePipe) region: string,
    @Param('business') business: string,
    @Query('singleflight') singleflight?: string,
  ): Promise<TokenDto> {
    if (singleflight === 'off') {
      this.requests.count('tokensWithoutSingleflight');
      return this.tokens.getTokenWithoutSingleflight(region, business);
    }
    this.requests.count('tokens');
    return this.tokens.getToken(region, business);
  }

  /** Every progress value of the shared pipeline, as one JSON array. */
  @Get(':region/:business/progress')
  getProgress(
    @Param('region', RegionNamePipe) region: string,
    @Param('business') business: string,
  ): Observable<TokenProgress[]> {
    this.requests.count('tokenProgress');
    return this.progress.progress$(region, business).pipe(toArray());
  }
}
