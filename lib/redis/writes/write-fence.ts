// Fencing tokens of distributed MergeWrites: a hybrid of a clock and a counter.
//
// A fence is a count of microseconds since 1970 (within Number.MAX_SAFE_INTEGER until the year
// 2255), raised by one whenever that is needed to exceed the key's previous fence:
//
//   fence = max(previous fence of the key + 1, now in microseconds)
//
// While Redis keeps a key's state, its fences grow strictly (the counter part). When Redis loses
// the state (a restart without persistence, a failover to a replica that had not seen the last
// writes, FLUSHALL, the state's TTL), the next fence starts from the clock again, which is past
// every fence issued before as long as the clock has not gone back by more than the loss took:
// a fence runs ahead of its clock only by the number of runs of one key issued within one
// microsecond, and each run costs a script call in Redis.
//
// Fleet fences read Redis' clock (TIME, inside the script that starts the run). A push that runs
// in-process while Redis is unreachable gets a fence from its instance's clock the same way, so a
// fenced downstream orders it against fleet pushes as well as the two clocks agree (NTP keeps
// them within a few milliseconds). An instance's clock also moves past every fleet fence it saw
// (as a hybrid logical clock does on receipt), so its in-process fences exceed the fleet fences
// of the runs it knew of, however far its own clock lags.

/**
 * A Lua function for the scripts that start a run: `next_fence(st)` stores and returns the key's
 * next fence. TIME before a write needs effects replication, the default since Redis 5 (older
 * servers are asked for it).
 */
export const NEXT_FENCE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local function next_fence(st)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local f = math.max(tonumber(redis.call('HGET', st, 'fence') or '0') + 1, now)
  redis.call('HSET', st, 'fence', string.format('%d', f))
  return f
end
`;

let lastLocal = 0;

/**
 * The fence of a push that runs in-process: this instance's clock in microseconds, strictly
 * greater than every fence this function returned or `observeFence` saw before in this process.
 */
export function localFence(): number {
  lastLocal = Math.max(lastLocal + 1, Date.now() * 1000);
  return lastLocal;
}

/** A fleet run's fence, seen by this instance: later in-process fences exceed it. */
export function observeFence(fence: number): void {
  if (fence > lastLocal) lastLocal = fence;
}
