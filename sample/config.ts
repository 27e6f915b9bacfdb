/** The sample's knobs, all environment variables with defaults (listed in README). */
export interface SampleConfig {
  /** HTTP port; the app listens on every interface. */
  port: number;
  /** Multiplies the simulated auth server's latencies (1 = 5 s for america). */
  tokenLatencyScale: number;
  /** How long (ms) a token stays cached after its flight. */
  tokenTtlMs: number;
  /** Multiplies the simulated downstream's push latency (50-500 ms). */
  pushLatencyScale: number;
  /** Redis for the token cache and for coordinating several instances; none: each on its own. */
  redisUrl: string | undefined;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  return {
    port: number(env, 'PORT', 3000),
    tokenLatencyScale: number(env, 'TOKEN_LATENCY_SCALE', 1),
    tokenTtlMs: number(env, 'TOKEN_TTL_MS', 30_000),
    pushLatencyScale: number(env, 'PUSH_LATENCY_SCALE', 1),
    redisUrl: env.REDIS_URL?.trim() || undefined,
  };
}

/**
 * Read once, when the app is loaded: the token TTL is a decorator option, fixed when the class is
 * defined, so tests set the environment before they import the app.
 */
export const config: SampleConfig = readConfig();

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a number >= 0, got "${raw}"`);
  }
  return value;
}
