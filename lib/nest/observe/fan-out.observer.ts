import type { OnModuleDestroy } from '@nestjs/common';
import type { CallKind, FlightObserver, FlightSettled, Settled } from './flight-observer.js';

/** Several observers as one (metrics and debug logs at once), so the runner holds a single one. */
export class FanOutObserver implements FlightObserver, OnModuleDestroy {
  constructor(private readonly observers: readonly FlightObserver[]) {}

  called(method: string, key: string | undefined, kind: CallKind, error?: unknown): void {
    for (const observer of this.observers) observer.called(method, key, kind, error);
  }

  flightStarted(method: string, key: string): void {
    for (const observer of this.observers) observer.flightStarted(method, key);
  }

  flightSettled(method: string, key: string, settled: FlightSettled): void {
    for (const observer of this.observers) observer.flightSettled(method, key, settled);
  }

  callLeft(method: string, key: string, error: Error): void {
    for (const observer of this.observers) observer.callLeft(method, key, error);
  }

  writeStarted(method: string, key: string): void {
    for (const observer of this.observers) observer.writeStarted(method, key);
  }

  writeRetried(method: string, key: string, attempt: number): void {
    for (const observer of this.observers) observer.writeRetried(method, key, attempt);
  }

  writeSettled(method: string, key: string, settled: Settled): void {
    for (const observer of this.observers) observer.writeSettled(method, key, settled);
  }

  writeCoalesced(method: string, key: string): void {
    for (const observer of this.observers) observer.writeCoalesced(method, key);
  }

  // Nest calls the hooks of the provider's value only: pass them on (the metrics unregister).
  onModuleDestroy(): void {
    for (const observer of this.observers) {
      (observer as Partial<OnModuleDestroy>).onModuleDestroy?.();
    }
  }
}
