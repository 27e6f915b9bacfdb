import type { RedisScript } from '../coordinator/coordinator.interface.js';

// The lease scripts both protocols share (docs/redis-flight.md, docs/redis-writes.md). A lease is a
// Redis string holding its owner's random token, with a PX expiry; only the owner may renew or
// release it, so a runner that stalled past its lease cannot disturb the next owner.

/**
 * Renewal, compare-and-pexpire. KEYS: lease. ARGV: token, leaseMs. Replies 1 while the caller
 * still holds the lease, 0 once it has lost it (expired, or taken by another instance).
 */
export const EXTEND: RedisScript = {
  name: 'lease:extend',
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`,
};

/** Release, compare-and-delete. KEYS: lease. ARGV: token. Replies 1 (released) or 0 (not held). */
export const RELEASE: RedisScript = {
  name: 'lease:release',
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
};
