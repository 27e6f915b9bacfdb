/**
 * What the module uses of a prom-client `Registry`: pass the `Registry` itself. Typed by its shape,
 * so that apps without prom-client (an optional peer dependency) still compile.
 * @publicApi
 */
export interface MetricsRegistry {
  /** prom-client's `Registry.registerMetric`. */
  registerMetric(metric: never): void;
  /** prom-client's `Registry.getSingleMetric`. */
  getSingleMetric(name: string): unknown;
  /** prom-client's `Registry.removeSingleMetric`. */
  removeSingleMetric(name: string): void;
}

/**
 * Options of the Prometheus metrics (`SingleflightModule.forRoot({ metrics })`), which need the
 * `prom-client` package. Every metric has one label, `method`: the decorated `Class.method`.
 *
 * ```ts
 * SingleflightModule.forRoot({ metrics: { registry: new Registry(), prefix: 'app_sf_' } });
 * ```
 * @publicApi
 */
export interface SingleflightMetricsOptions {
  /**
   * The registry the metrics are registered in. The app's metrics are removed from it when the app
   * closes, so a new app in the same process can register them again.
   * @default prom-client's global `register`
   */
  registry?: MetricsRegistry;
  /**
   * The start of every metric's name: `singleflight_calls_total` with the default.
   * @default 'singleflight_'
   */
  prefix?: string;
  /**
   * Upper bounds (seconds) of the buckets of the duration histograms.
   * @default [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
   */
  buckets?: number[];
}
