/** mulberry32: a small seeded PRNG, so every run and contender sees the same sequence. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `calls` ranks in [0, keys), Zipf-distributed with exponent `s`; the same for the same seed. */
export function zipfRanks(calls: number, keys: number, s: number, seed: number): number[] {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let k = 0; k < keys; k++) cdf[k] = total += 1 / (k + 1) ** s;
  const random = mulberry32(seed);
  // Inverse CDF: the first rank whose cumulative weight reaches a uniform draw.
  return Array.from({ length: calls }, () => {
    const u = random() * total;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}
