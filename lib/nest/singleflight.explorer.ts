import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { FlightRunner } from './flight-runner.js';
import type { FlightMetadata } from './flight-metadata.js';
import { FLIGHT_METADATA } from './singleflight.constants.js';

/**
 * Checks every decorated method of the app's providers and controllers at start-up, so misuse
 * fails the boot instead of the first call. It only validates; the decorators do the wrapping.
 */
@Injectable()
export class SingleflightExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly runner: FlightRunner,
  ) {}

  onModuleInit(): void {
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const prototype: unknown = wrapper.metatype?.prototype;
      if (!prototype || typeof prototype !== 'object' || seen.has(prototype) || wrapper.isAlias)
        continue;
      seen.add(prototype);
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method: unknown = (prototype as Record<string, unknown>)[name];
        if (typeof method !== 'function') continue;
        const meta = Reflect.getMetadata(FLIGHT_METADATA, method) as FlightMetadata | undefined;
        if (meta !== undefined) this.runner.prepare(meta);
      }
    }
  }
}
