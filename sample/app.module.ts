import { Module } from '@nestjs/common';
import { SingleflightModule } from 'nestjs-singleflight';
import { Registry } from 'prom-client';
import { DOWNSTREAM_RANDOM, Downstream } from './events/downstream.js';
import { EventStore } from './events/event-store.js';
import { EventsController } from './events/events.controller.js';
import { PushService } from './events/push.service.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RequestCounter } from './stats/request-counter.js';
import { StatsController } from './stats/stats.controller.js';
import { TokenBackend } from './tokens/token-backend.js';
import { TokenProgressService } from './tokens/token-progress.service.js';
import { TokenService } from './tokens/token.service.js';
import { TokensController } from './tokens/tokens.controller.js';

@Module({
  imports: [
    MetricsModule,
    // Defaults: an in-memory cache for the `ttl` of @SingleFlight, no timeout. Prometheus metrics
    // of every decorated method go to the app's registry, served at GET /metrics.
    SingleflightModule.forRootAsync({
      imports: [MetricsModule],
      inject: [Registry],
      useFactory: (registry: Registry) => ({ metrics: { registry } }),
    }),
  ],
  controllers: [TokensController, EventsController, StatsController],
  providers: [
    TokenBackend,
    TokenService,
    TokenProgressService,
    EventStore,
    Downstream,
    { provide: DOWNSTREAM_RANDOM, useValue: Math.random },
    PushService,
    RequestCounter,
  ],
})
export class AppModule {}
