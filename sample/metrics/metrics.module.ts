import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { MetricsController } from './metrics.controller.js';

/**
 * The app's own prom-client Registry, injectable by its class, and `GET /metrics`. A registry per
 * app (rather than prom-client's global one) lets several apps live in one process, as in tests.
 */
@Module({
  providers: [{ provide: Registry, useFactory: () => new Registry() }],
  controllers: [MetricsController],
  exports: [Registry],
})
export class MetricsModule {}
