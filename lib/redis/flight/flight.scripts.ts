import type { RedisScript } from '../coordinator/coordinator.interface.js';

// The Lua scripts of the distributed singleflight (docs/redis-flight.md, "Scripts"); the lease's
// renewal is shared with MergeWrites (lease.scripts.ts). Every script touches only keys that
// share one hash tag, so it runs on a single Cluster slot.

/**
 * KEYS: lock, res. ARGV: token, leaseMs, reuse ('1' or '0').
 * Replies `{2, envelope}` (a recent result, reuse on), `{1}` (leader) or
 * `{0, holder, pttl}` (follower of `holder`, whose lease has `pttl` ms left).
 */
export const ACQUIRE: RedisScript = {
  name: 'singleflight:acquire',
  source: `
if ARGV[3] == '1' then
  local r = redis.call('GET', KEYS[2])
  if r then return {2, r} end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}
`,
};

/**
 * KEYS: lock, res. ARGV: token, envelope, resultTtlMs, channel, message.
 * The result becomes visible in the same atomic step as the release, so a follower that reads
 * `res` after seeing the lock gone cannot miss it. A leader that lost its lease writes only if no
 * newer result is there (NX) and never deletes the new holder's lock. Replies 1 (was the holder)
 * or 0 (had lost the lease).
 */
export const COMPLETE: RedisScript = {
  name: 'singleflight:complete',
  source: `
local holder = redis.call('GET', KEYS[1]) == ARGV[1]
if holder then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX')
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
if holder then return 1 end
return 0
`,
};

/**
 * KEYS: lock, res. Go's Forget across instances: later calls start a new flight instead of
 * joining the running one or reusing a recent result. A leader still running loses its lease
 * (its work goes on; its late COMPLETE writes only if no newer result is there).
 */
export const FORGET: RedisScript = {
  name: 'singleflight:forget',
  source: `return redis.call('DEL', KEYS[1], KEYS[2])`,
};
