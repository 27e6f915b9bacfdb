/** How long the simulated auth server takes to issue a token, per region (ms, before scaling). */
export const REGION_LATENCY_MS = {
  america: 5000,
  europe: 3000,
  africa: 4000,
  asia: 2000,
} as const;

/** An unsupported region is refused after this long (ms, before scaling): the server still looked. */
export const REFUSAL_LATENCY_MS = 1000;

export type Region = keyof typeof REGION_LATENCY_MS;

export const SUPPORTED_REGIONS = Object.keys(REGION_LATENCY_MS) as Region[];

export function isRegion(region: string): region is Region {
  return Object.hasOwn(REGION_LATENCY_MS, region);
}
