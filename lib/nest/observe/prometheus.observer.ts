import type { OnModuleDestroy } from '@nestjs/common';
// Types only: prom-client is an optional peer, loaded by create() when metrics are on.
import type * as PromClient from 'prom-client';
import {
  SingleflightAbortError,
  SingleflightOptionsError,
} from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';
import type { CallKind, FlightObserver, FlightSettled, Settled } from './flight-observer.js';
import type { SingleflightMetricsOptions } from '../interfaces/singleflight-metrics-options.interface.js';

export const DEFAULT_METRICS_PREFIX = 'singleflight_';

/** From 1 ms (a local cache) to 30 s (a slow backend at its timeout). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Name (after the prefix) and help of each counter. */
const COUNTERS = {
  calls: ['calls_total', 'Calls of @SingleFlight() and @MergeWrites() methods.'],
  flights: ['flights_total', 'Flights started: executions of a @SingleFlight() method.'],
  joins: ['joins_total', 'Calls that joined a flight in progress instead of running the method.'],
  cacheHits: [
    'cache_hits_total',
    'Calls answered from the local cache without a flight, and flights that found the value in the cache store.',
  ],
  cacheMisses: [
    'cache_misses_total',
    'Cached flights that found nothing in the cache and ran the method.',
  ],
  timeouts: ['timeouts_total', 'Callers that gave up after their timeout; the flight went on.'],
  aborts: ['aborts_total', 'Callers that left because of their AbortSignal; the flight went on.'],
  errors: [
    'errors_total',
    'Flights and @MergeWrites() runs (after their last try) that failed, and calls that failed before either (bad key, throwing merge).',
  ],
  writeRuns: ['write_runs_total', 'Runs of a @MergeWrites() method (a retry is not a new run).'],
  writeCoalesced: [
    'write_coalesced_total',
    '@MergeWrites() calls served by a run started for a newer call of their key.',
  ],
  writeRetries: ['write_retries_total', 'Tries of a @MergeWrites() run after a failed one.'],
} as const;

const HISTOGRAMS = {
  flightDuration: [
    'flight_duration_seconds',
    'How long flights of a @SingleFlight() method took, from start to settle (failed ones too).',
  ],
  writeDuration: [
    'write_duration_seconds',
    'How long @MergeWrites() runs took, from their first try to settle (retries included).',
  ],
} as const;

type CounterName = keyof typeof COUNTERS;
type HistogramName = keyof typeof HISTOGRAMS;

/**
 * One method's counts, as plain numbers: counting costs a field increment per event, and
 * prom-client reads them when it is scraped (each counter's `collect`).
 */
class MethodCounts implements Record<CounterName, number> {
  calls = 0;
  flights = 0;
  joins = 0;
  cacheHits = 0;
  cacheMisses = 0;
  timeouts = 0;
  aborts = 0;
  errors = 0;
  writeRuns = 0;
  writeCoalesced = 0;
  writeRetries = 0;
  constructor(
    /** Histogram children of the method, made once: no label lookup per observation. */
    readonly flightDuration: { observe(value: number): void },
    readonly writeDuration: { observe(value: number): void },
  ) {}
}

/**
 * Counts what the calls of decorated methods do in prom-client metrics, labelled by `method`
 * (`Class.method`, never the key). Made by the module when `metrics` is on.
 */
export class PrometheusObserver implements FlightObserver, OnModuleDestroy {
  readonly #registry: PromClient.Registry;
  readonly #metrics: PromClient.Metric[];
  readonly #histograms: Record<HistogramName, PromClient.Histogram<'method'>>;
  readonly #methods = new Map<string, MethodCounts>();

  /** Loads prom-client (an optional peer dependency) and registers the metrics. */
  static async create(options: SingleflightMetricsOptions = {}): Promise<PrometheusObserver> {
    let client: typeof PromClient;
    try {
      client = await import('prom-client');
    } catch (error) {
      throw new SingleflightOptionsError(messages.METRICS_NEED_PROM_CLIENT, { cause: error });
    }
    return new PrometheusObserver(client, options);
  }

  constructor(client: typeof PromClient, options: SingleflightMetricsOptions = {}) {
    this.#registry = (options.registry ?? client.register) as PromClient.Registry;
    const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
    const names = [...Object.values(COUNTERS), ...Object.values(HISTOGRAMS)].map(
      ([name]) => prefix + name,
    );
    // Checked before any is registered, so a clash leaves the registry as it was.
    const taken = names.find((name) => this.#registry.getSingleMetric(name) !== undefined);
    if (taken !== undefined) throw new SingleflightOptionsError(messages.METRIC_TAKEN(taken));
    const registers = [this.#registry];
    const methods = this.#methods;
    const counters = Object.entries(COUNTERS).map(
      ([field, [name, help]]) =>
        new client.Counter({
          name: prefix + name,
          help,
          labelNames: ['method'],
          registers,
          collect() {
            this.reset();
            for (const [method, counts] of methods) {
              const value = counts[field as CounterName];
              if (value > 0) this.inc({ method }, value);
            }
          },
        }),
    );
    const buckets = [...(options.buckets ?? DEFAULT_DURATION_BUCKETS)];
    this.#histograms = {
      flightDuration: histogram(client, prefix, HISTOGRAMS.flightDuration, buckets, registers),
      writeDuration: histogram(client, prefix, HISTOGRAMS.writeDuration, buckets, registers),
    };
    this.#metrics = [...counters, ...Object.values(this.#histograms)];
  }

  called(method: string, _key: string | undefined, kind: CallKind): void {
    const counts = this.#of(method);
    counts.calls++;
    if (kind === 'joined') counts.joins++;
    else if (kind === 'cached') counts.cacheHits++;
    else if (kind === 'rejected') counts.errors++;
  }

  flightStarted(method: string): void {
    this.#of(method).flights++;
  }

  flightSettled(method: string, _key: string, { seconds, failed, fromCache }: FlightSettled): void {
    const counts = this.#of(method);
    counts.flightDuration.observe(seconds);
    if (failed) counts.errors++;
    if (fromCache === true) counts.cacheHits++;
    else if (fromCache === false) counts.cacheMisses++;
  }

  callLeft(method: string, _key: string, error: Error): void {
    const counts = this.#of(method);
    if (error instanceof SingleflightAbortError) counts.aborts++;
    else counts.timeouts++;
  }

  writeStarted(method: string): void {
    this.#of(method).writeRuns++;
  }

  writeRetried(method: string): void {
    this.#of(method).writeRetries++;
  }

  writeSettled(method: string, _key: string, { seconds, failed }: Settled): void {
    const counts = this.#of(method);
    counts.writeDuration.observe(seconds);
    if (failed) counts.errors++;
  }

  writeCoalesced(method: string): void {
    this.#of(method).writeCoalesced++;
  }

  /** Takes this app's metrics out of the registry, so the next app can register its own. */
  onModuleDestroy(): void {
    for (const metric of this.#metrics) {
      const { name } = metric as unknown as { name: string };
      if (this.#registry.getSingleMetric(name) === metric) this.#registry.removeSingleMetric(name);
    }
  }

  #of(method: string): MethodCounts {
    let counts = this.#methods.get(method);
    if (counts === undefined) {
      const { flightDuration, writeDuration } = this.#histograms;
      counts = new MethodCounts(flightDuration.labels(method), writeDuration.labels(method));
      this.#methods.set(method, counts);
    }
    return counts;
  }
}

function histogram(
  client: typeof PromClient,
  prefix: string,
  [name, help]: readonly [string, string],
  buckets: number[],
  registers: PromClient.Registry[],
): PromClient.Histogram<'method'> {
  return new client.Histogram({
    name: prefix + name,
    help,
    labelNames: ['method'],
    buckets,
    registers,
  });
}
