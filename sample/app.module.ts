import KeyvRedis from '@keyv/redis';
import { Module } from '@nestjs/common';
import { Keyv } from 'keyv';
import { SingleflightModule, type SingleflightModuleOptions } from 'nestjs-singleflight';
import { Registry } from 'prom-client';
import { DOWNSTREAM_RANDOM, Downstream } from './events/downstream.js';
import { EventStore } from './events/event-store.js';
import { EventsController } from './events/events.controller.js';
import { PushService } from './events/push.service.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { REDIS_CLIENT, type RedisClient, RedisModule } from './redis/redis.module.js';
import { RequestCounter } from './stats/request-counter.js';
import { StatsController } from './stats/stats.controller.js';
import { TokenBackend } from './tokens/token-backend.js';
import { TokenProgressService } from './tokens/token-progress.service.js';
import { TokenService } from './tokens/token.service.js';
import { TokensController } from './tokens/tokens.controller.js';

@Module({
  imports: [
    MetricsModule,
    RedisModule,
    // Defaults: an in-memory cache for the `ttl` of @SingleFlight, no timeout. Prometheus metrics
    // of every decorated method go to the app's registry, served at GET /metrics. With REDIS_URL,
    // tokens are cached in Redis and flights are shared by every instance of the sample.
    SingleflightModule.forRootAsync({
      imports: [MetricsModule, RedisModule],
      inject: [Registry, REDIS_CLIENT],
      useFactory: (registry: Registry, client: RedisClient | null): SingleflightModuleOptions => ({
        metrics: { registry },
        ...(client && {
          // One name for every instance of the sample; another app on this Redis needs its own,
          // for its flights and for its cached values.
          cache: {
            stores: [
              new Keyv({ store: new KeyvRedis(client as never), namespace: 'singleflight-sample' }),
            ],
          },
          redis: { client, namespace: 'singleflight-sample' },
        }),
      }),
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
