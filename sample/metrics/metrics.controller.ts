import { Controller, Get, Res } from '@nestjs/common';
import { Registry } from 'prom-client';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  /** What Prometheus scrapes: the app's registry (the singleflight metrics) in the text format. */
  @Get()
  async metrics(
    @Res({ passthrough: true }) response: { header(name: string, value: string): unknown },
  ): Promise<string> {
    response.header('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}
