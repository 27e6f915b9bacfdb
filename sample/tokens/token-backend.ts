import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { config } from '../config.js';
import { REFUSAL_LATENCY_MS, REGION_LATENCY_MS, isRegion } from './regions.js';
import type { BackendCalls } from './token.interfaces.js';
import { UnsupportedRegionError } from './unsupported-region.error.js';

/**
 * A simulated, slow auth server. It counts every call, which is what singleflight saves: each call
 * here would be a request to a real server.
 */
@Injectable()
export class TokenBackend {
  readonly #calls = new Map<string, number>();

  async fetchToken(region: string, business: string): Promise<string> {
    this.#calls.set(region, (this.#calls.get(region) ?? 0) + 1);
    await sleep(this.latencyOf(region));
    if (!isRegion(region)) throw new UnsupportedRegionError(region);
    return `${region}.${business}.${randomBytes(9).toString('base64url')}`;
  }

  /** How long (ms, scaled) a call for `region` takes. */
  latencyOf(region: string): number {
    const base = isRegion(region) ? REGION_LATENCY_MS[region] : REFUSAL_LATENCY_MS;
    return base * config.tokenLatencyScale;
  }

  calls(): BackendCalls {
    const byRegion = Object.fromEntries(this.#calls);
    const total = [...this.#calls.values()].reduce((sum, n) => sum + n, 0);
    return { total, byRegion };
  }
}
