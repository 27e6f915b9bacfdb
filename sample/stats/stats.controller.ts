import { Controller, Get } from '@nestjs/common';
import { FlightCache, Group, ObservableGroup, WriteGroup } from 'nestjs-singleflight';
import { Downstream } from '../events/downstream.js';
import { TokenBackend } from '../tokens/token-backend.js';
import { TokenProgressService } from '../tokens/token-progress.service.js';
import { RequestCounter } from './request-counter.js';

@Controller('stats')
export class StatsController {
  constructor(
    private readonly requests: RequestCounter,
    private readonly backend: TokenBackend,
    private readonly progress: TokenProgressService,
    private readonly downstream: Downstream,
    private readonly group: Group,
    private readonly cache: FlightCache,
    private readonly observables: ObservableGroup,
    private readonly writes: WriteGroup,
  ) {}

  /** What the app served and what it cost downstream, next to the library's own counters. */
  @Get()
  stats() {
    return {
      requests: this.requests.snapshot(),
      backendCalls: this.backend.calls(),
      flights: this.group.stats(),
      cache: this.cache.stats(),
      observables: {
        ...this.observables.stats(),
        upstreamSubscriptions: this.progress.upstreamSubscriptions(),
      },
      writes: { ...this.writes.stats(), ...this.downstream.totals() },
    };
  }
}
