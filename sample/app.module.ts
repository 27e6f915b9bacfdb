import { Module } from '@nestjs/common';
import { SingleflightModule } from 'nestjs-singleflight';
import { DOWNSTREAM_RANDOM, Downstream } from './events/downstream.js';
import { EventStore } from './events/event-store.js';
import { EventsController } from './events/events.controller.js';
import { PushService } from './events/push.service.js';
import { RequestCounter } from './stats/request-counter.js';
import { StatsController } from './stats/stats.controller.js';
import { TokenBackend } from './tokens/token-backend.js';
import { TokenProgressService } from './tokens/token-progress.service.js';
import { TokenService } from './tokens/token.service.js';
import { TokensController } from './tokens/tokens.controller.js';

@Module({
  // Defaults: an in-memory cache for the `ttl` of @SingleFlight, no timeout.
  imports: [SingleflightModule.forRoot()],
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
