// The texts of coordination through Redis. Each says what went wrong and what to do.
import { show } from '../core/singleflight.messages.js';

// Several instances: distributed singleflight (lib/redis/flight/distributed-flight.ts)

export const NOT_A_COORDINATOR = (where: string, value: unknown) =>
  `${where} needs a RedisCoordinator (e.g. nodeRedisAdapter(client)), got ${typeof value} (${show(value)}).`;

export const NOT_A_LOG = (where: string, value: unknown) =>
  `${where} takes a log function (message, error?) => void as its third argument, got ` +
  `${typeof value} (${show(value)}). Leave it out to log with console.warn.`;

export const REDIS_CLIENT_AND_COORDINATOR = (where: string) =>
  `\`redis\` in ${where} takes \`client\` or \`coordinator\`, not both: pass the ` +
  'client alone (the module makes its adapter), or your adapter alone.';

export const REDIS_TIMEOUT_WITH_COORDINATOR = (where: string) =>
  `\`redis\` in ${where} has \`opTimeoutMs\` and \`coordinator\`: the timeout applies ` +
  'to the adapter the module makes for `client`. Give it to your adapter instead, e.g. ' +
  'nodeRedisAdapter(client, { opTimeoutMs }).';

export const SUBSCRIBER_IS_CLIENT = (where: string) =>
  `${where}: \`subscriber\` is the client itself. Pub/sub takes a connection over, so the ` +
  'subscriber must be a connection of its own (client.duplicate()), or leave it out and the ' +
  'adapter opens one.';

export const COORDINATION_FAILED = (namespace: string, breakerMs: number) =>
  `Redis coordination of singleflight namespace "${namespace}" failed, so flights run in each ` +
  `instance on its own for the next ${breakerMs} ms (callers do not fail). Check that Redis is ` +
  'reachable; this is logged once per outage.';

export const ENVELOPE_REFUSED = (namespace: string, key: string, why: 'oversized' | 'forged') =>
  `A result of key "${key}" read from Redis (singleflight namespace "${namespace}") was ignored: ` +
  (why === 'oversized'
    ? 'it is larger than maxResultBytes.'
    : "its HMAC does not verify with this instance's secret (forged or altered in Redis, or written " +
      'with another secret).') +
  ' The work ran on this instance instead. Counted in stats().rejectedEnvelopes; logged once.';

export const RESULT_NOT_ENCODABLE = (key: string, why: string) =>
  `The result of key "${key}" was not shared with the other instances: it cannot be encoded ` +
  `(${why}); each instance runs the work for itself. Give its class a codec (\`codecs\`), or ` +
  'return plain data, Dates, Maps, Sets or Buffers. Counted in stats().unshareable; logged once.';

export const COORDINATION_RESTORED = (namespace: string) =>
  `Redis coordination of singleflight namespace "${namespace}" is back: instances share flights again.`;

export const BAD_SCRIPT_REPLY = (script: string, reply: unknown) =>
  `The Redis script ${script} gave an unexpected reply (${show(reply)}); is the Redis adapter ` +
  'returning replies as Redis gives them?';

export const LEASE_LOST = (key: string, leaseMs: number) =>
  `The distributed lease of key "${key}" was lost before its work finished (leaseMs ${leaseMs}), so ` +
  'another instance may run the work too. forget() does this on purpose; otherwise an event-loop ' +
  'stall or a Redis failover did: raise `leaseMs` if it recurs.';

export const RECHECK_FAILED = (key: string) =>
  `Re-checking the cache for key "${key}" after winning the distributed lease failed; the work runs instead.`;

// Distributed MergeWrites (DistributedWriteGroup)

export const WRITE_ARGS_NOT_ENCODABLE = (key: string, path: string, what: string) =>
  `Distributed MergeWrites sends the arguments of key "${key}" through Redis, encoded by the ` +
  `codec of the cache and the flights, but ${path} is ${what}. Give its class a codec ` +
  '(`codecs`), or pass plain data, Dates, Maps, Sets or Buffers (e.g. an id instead of an ' +
  'entity), or use in-process MergeWrites.';

export const WRITE_ARGS_REFUSED = (namespace: string, key: string, why: 'forged' | 'unreadable') =>
  `The arguments of key "${key}" read from Redis (MergeWrites namespace "${namespace}") were ` +
  'refused, so they were not pushed: ' +
  (why === 'forged'
    ? "their HMAC does not verify with this instance's secret (forged or altered in Redis, " +
      'copied from another key, or written with another secret).'
    : 'they do not read as arguments of this release (written by an older release or by hand, ' +
      'or with a codec this instance lacks).') +
  ' The callers the push covered on this instance reject; the write stays pending, and the next ' +
  'call of the key stores its own arguments. Counted in stats().rejectedArgs; logged once.';

export const WRITE_BAD_VERSION = (key: string, got: unknown) =>
  `The version(args) of a MergeWrites call of key "${key}" returned ${String(got)}; it must ` +
  'return a finite number that grows with the state the arguments carry (e.g. a row version).';

export const WRITE_WAIT_TIMEOUT = (key: string, ms: number) =>
  `Gave up waiting for a push of key "${key}" after ${ms} ms (waitTimeoutMs). The write is ` +
  'recorded in Redis and stays pending until an instance pushes it; raise `waitTimeoutMs` if ' +
  'pushes are expected to take longer.';

export const WRITE_COORDINATION_RESTORED = (namespace: string) =>
  `Redis coordination of MergeWrites (namespace "${namespace}") is back: instances push through ` +
  'the fleet again.';

export const WRITE_COORDINATION_DOWN = (namespace: string, ms: number) =>
  `Redis coordination of MergeWrites (namespace "${namespace}") failed; for the next ${ms} ms ` +
  'calls run with in-process MergeWrites (each instance coalesces only its own calls, and ' +
  'instances may push one key at the same time). See the error.';

export const WRITE_LEASE_LOST = (key: string) =>
  `This instance lost the lease of key "${key}" while pushing (a stall past leaseMs, or Redis ` +
  'failover); another instance may be pushing it now. The key is queued again so the newest ' +
  'state is pushed last; a downstream that checks `fence` rejects the stale write.';

export const WRITE_RETRIES_EXHAUSTED = (key: string, attempts: number) =>
  `The push of key "${key}" failed ${attempts} times in a row on this instance; it stays pending ` +
  'in Redis until the next event or the sweep (`sweepEveryMs`) pushes it.';

export const WRITE_NO_RUN = (key: string) =>
  `Key "${key}" has pending writes in Redis, but this instance has no push for it (it never ` +
  'called it): register one with `handle(prefix, run)` so the sweep can push it here.';

export const WRITE_NO_ARGS = (key: string) =>
  `Key "${key}" was queued again without arguments and Redis has none stored (its state expired ` +
  'or was lost), so it cannot be pushed. Let `ledger.pending()` yield `{ key, args }` for it.';

export const WRITE_CLOSED = (key: string) =>
  `The DistributedWriteGroup closed while a caller of key "${key}" was waiting. The write is ` +
  'recorded in Redis; another instance pushes it (recovery timer or sweep).';

export const WRITE_LEDGER_FAILED = (what: string) =>
  `The MergeWrites ledger failed in ${what}; see the error.`;

export const WRITE_LOOP_FAILED = (key: string) =>
  `The MergeWrites push loop of key "${key}" failed unexpectedly (a bug: please report it); its ` +
  'lease expires and another instance takes the key over.';

// Several instances: the Redis coordinator adapters (lib/redis/coordinator/*.adapter.ts)

export const NOT_A_REDIS_CLIENT = (where: string, library: string, value: unknown) =>
  `${where} needs a client of ${library}, got ${typeof value} (${show(value)}). ` +
  'Pass the client itself (connected), and use the adapter that matches its library.';

export const COORDINATOR_TIMEOUT = (operation: string, ms: number) =>
  `Redis gave no reply to ${operation} within ${ms} ms (opTimeoutMs): the server is down, hung or ` +
  'overloaded. Flights run on this instance alone until it answers; raise opTimeoutMs if Redis is just slow.';

export const COORDINATOR_COMMAND_FAILED = (operation: string, cause: unknown) =>
  `Redis ${operation} failed (${cause instanceof Error ? cause.message : show(cause)}); flights run on ` +
  'this instance alone until Redis answers again. See cause.';

export const COORDINATOR_CLOSED = (operation: string) =>
  `${operation} was called after the Redis coordinator was closed; create a new adapter.`;

export const REDIS_URL_NEEDS_CLIENT = (where: string) =>
  `\`redis.url\` in ${where} needs a Redis client library, and neither redis (node-redis) nor ` +
  'ioredis could be loaded (see cause). Install one: npm install redis (or npm install ioredis).';
