import type { RedisScript } from '../coordinator/coordinator.interface.js';
import { NEXT_FENCE_LUA } from './write-fence.js';

// The scripts of distributed MergeWrites (docs/redis-writes.md, "Scripts"); renewing and
// releasing the lease are shared with the flights (lease.scripts.ts). Every script touches only
// the two keys of one user key, `${ns}:{K}:lease` and `${ns}:{K}:st`, which share the hash tag
// {K}, so each runs in one Cluster slot. `st` is a hash: ver (events seen), done (highest ver a
// successful push covered), fence (the last run's, see write-fence.ts), args (the newest event's
// arguments as write-args.ts encodes and seals them), argsv (their version, when the caller gave one), key (the user key, for the
// sweep). Pending work is `ver > done`, never cleared at run start: that makes crashes safe.

/**
 * Every event, from any instance.
 * KEYS lease, st; ARGV token, leaseMs, argsJson, key, stateTtlMs, store, version.
 * `store` '1' stores the args; '0' keeps the stored ones and sets them only if there are none (a
 * re-queue must not put older arguments over a newer event's). With a `version` (else ''), args
 * with a higher version than the stored ones' always win and lower ones never do, whatever order
 * the events arrive in; on a tie '1' stores.
 * Reply `{1, ver, fence, args, argsv}`: you run. `{0, ver, pttl}`: someone runs; watch for their
 * crash.
 */
export const EVENT: RedisScript = {
  name: 'mergewrites:event',
  source: `${NEXT_FENCE_LUA}
local v = redis.call('HINCRBY', KEYS[2], 'ver', 1)
redis.call('HSET', KEYS[2], 'key', ARGV[4])
if ARGV[3] ~= '' then
  local has = redis.call('HEXISTS', KEYS[2], 'args') == 1
  local sv = ARGV[7] or ''
  local cur = redis.call('HGET', KEYS[2], 'argsv')
  local take
  if not has then take = true
  elseif sv ~= '' and cur then
    take = tonumber(sv) > tonumber(cur) or (ARGV[6] == '1' and tonumber(sv) == tonumber(cur))
  else take = ARGV[6] == '1' end
  if take then
    redis.call('HSET', KEYS[2], 'args', ARGV[3])
    if sv ~= '' then redis.call('HSET', KEYS[2], 'argsv', sv) else redis.call('HDEL', KEYS[2], 'argsv') end
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local a = redis.call('HMGET', KEYS[2], 'args', 'argsv')
  return {1, v, next_fence(KEYS[2]), a[1] or '', a[2] or ''}
end
return {0, v, redis.call('PTTL', KEYS[1])}
`,
};

/**
 * The runner, after a successful push. Publishes `K\ndone` so waiting callers on every instance
 * settle. Events during the push keep the lease for exactly one coalesced follow-up.
 * KEYS lease, st; ARGV token, leaseMs, startVer, channel, K.
 * Reply `{-1}`: lease lost. `{0, done}`: finished. `{1, done, ver, fence, args, argsv}`: run again.
 */
export const FINISH: RedisScript = {
  name: 'mergewrites:finish',
  source: `${NEXT_FENCE_LUA}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
local sv = tonumber(ARGV[3])
local d = tonumber(redis.call('HGET', KEYS[2], 'done') or '0')
if sv > d then
  redis.call('HSET', KEYS[2], 'done', ARGV[3])
  d = sv
end
redis.call('PUBLISH', ARGV[4], ARGV[5] .. '\\n' .. string.format('%d', d))
local v = tonumber(redis.call('HGET', KEYS[2], 'ver') or '0')
if v > sv then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  local a = redis.call('HMGET', KEYS[2], 'args', 'argsv')
  return {1, d, v, next_fence(KEYS[2]), a[1] or '', a[2] or ''}
end
redis.call('DEL', KEYS[1])
return {0, d}
`,
};

/**
 * Recovery timers, retries and the sweep: run if work is pending and nobody holds the lease.
 * KEYS lease, st; ARGV token, leaseMs.
 * Reply `{0, done}`: nothing pending. `{1, ver, fence, args, argsv}`: you run. `{2, done, pttl}`:
 * running.
 */
export const RECOVER: RedisScript = {
  name: 'mergewrites:recover',
  source: `${NEXT_FENCE_LUA}
local st = redis.call('HMGET', KEYS[2], 'ver', 'done', 'args', 'argsv')
local v = tonumber(st[1] or '0')
local d = tonumber(st[2] or '0')
if v <= d then return {0, d} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, v, next_fence(KEYS[2]), st[3] or '', st[4] or ''}
end
return {2, d, redis.call('PTTL', KEYS[1])}
`,
};

/** The sweep's read of one state hash. KEYS st. Reply `{ver, done, key}` (nil where missing). */
export const PEEK: RedisScript = {
  name: 'mergewrites:peek',
  source: `return redis.call('HMGET', KEYS[1], 'ver', 'done', 'key')`,
};
