// Every text this library shows a user, in one place. Each says what went wrong and what to do.
import { inspect } from 'node:util';

const show = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : typeof value === 'function'
      ? 'a function'
      : isObjectLiteral(value)
        ? inspect(value, { depth: 1, breakLength: Infinity })
        : String(value);

/** `{ ... }` as written: shown by its fields, where String() would say [object Object]. */
function isObjectLiteral(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export const INVALID_KEY = (key: unknown) =>
  `A singleflight key must be a string, got ${typeof key} (${show(key)}). ` +
  'Build the key with a template string, e.g. `user:${id}`.';

export const INVALID_FN = (key: string, fn: unknown) =>
  `The work for key "${key}" must be a function, got ${typeof fn}. Pass \`() => doTheWork()\`.`;

export const TIMEOUT = (key: string, ms: number) =>
  `Gave up waiting for key "${key}" after ${ms} ms (the caller's timeout). ` +
  'The flight goes on for the other callers; raise `timeout` if the work is expected to take longer.';

export const ABORTED = (key: string) =>
  `The caller of key "${key}" aborted (its AbortSignal fired). The flight goes on for the other callers.`;

export const ABANDONED = (key: string) =>
  `Every caller of key "${key}" left (timeouts or aborts), so its work was aborted.`;

export const REENTRY = (key: string) =>
  `Key "${key}" was called again from inside its own flight, which would wait for itself forever. ` +
  'Use a different key for the inner call, or call the inner work directly.';

const chain = (keys: readonly string[]) => keys.map((key) => `"${key}"`).join(' -> ');

export const REENTRY_CYCLE = (keys: readonly string[]) =>
  `Key "${keys[1]}" was called from inside the work of "${keys[0]}" (a flight or a MergeWrites ` +
  `run), and that work would then wait for itself: ${chain(keys)} (each waits for the next). ` +
  'This call fails instead of hanging them all. Call the work of one of these keys directly ' +
  'instead of through the group, or use different keys.';

export const WRITE_REENTRY = (key: string) =>
  `Key "${key}" was written again from inside its own MergeWrites run (directly or through a run ` +
  'of another key), which would wait for itself forever: that call would be the next run, which ' +
  'starts only when this one ends. Use a different key for the inner call, or call the inner ' +
  'work directly.';

export const WRITE_REENTRY_CYCLE = (keys: readonly string[]) =>
  `Key "${keys[1]}" was written from inside the work of "${keys[0]}" (a MergeWrites run or a ` +
  `flight), and that work would then wait for itself: ${chain(keys)} (each waits for the next). ` +
  'This call fails instead of hanging them all. Call the work of one of these keys directly, ' +
  'or use different keys.';

export const BAD_BACKOFF = (key: string, attempt: number, wait: unknown) =>
  `The retry.backoffMs function returned ${show(wait)} after try ${attempt} of key "${key}"; it must ` +
  'return a number of milliseconds from 0 to 2147483647 (2^31 - 1, about 24.8 days: the longest ' +
  "a timer waits). The run failed with this error; the work's own error is its cause.";

export const THROWN_VALUE = (key: string, value: unknown) =>
  `The work for key "${key}" threw a value that is not an Error (${show(value)}); it is kept as \`cause\`.`;

export const UNKNOWN_OPTION = (where: string, name: string, allowed: readonly string[]) =>
  `Unknown option "${name}" in ${where}. Allowed: ${allowed.join(', ')}.`;

export const BAD_OPTION = (where: string, name: string, expected: string, value: unknown) =>
  `Option "${name}" in ${where} must be ${expected}, got ${show(value)}.` +
  (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
    ? ' Values from the environment or ConfigService are strings: convert it, e.g. Number(value).'
    : '');

export const UNSERIALIZABLE_ARGUMENT = (where: string, path: string, what: string) =>
  `${where}: the default key cannot serialize ${path} (${what}) without losing ` +
  'information, and two different calls could then share one result. ' +
  'Pass an explicit key, e.g. @SingleFlight((id: string) => `user:${id}`).';

// Caching after the flight (lib/cache)

export const STORE_FAILED = (key: string | undefined) =>
  `${key === undefined ? 'A cache store failed' : `The cache store failed for key "${key}"`}; ` +
  'the call ran without it.';

export const STORE_TIMEOUT = (ms: number) => `cache store gave no answer within ${ms} ms`;

export const BAD_TTL = (key: string, ttl: unknown) =>
  `The ttl of key "${key}" is ${typeof ttl === 'number' ? show(ttl) : `${typeof ttl} (${show(ttl)})`}, ` +
  'not a number of milliseconds, so the value was not cached. Give a finite number ' +
  '(0 or less: do not cache). Shown once per method.';

export const POLICY_THREW = (key: string) =>
  `The ttl or shouldCache function of key "${key}" threw, so the value was not cached (see the ` +
  'error). Shown once per method.';

export const REFRESH_FAILED = (key: string) =>
  `The background refresh (refreshThreshold) of key "${key}" failed; the cached value is ` +
  'answered until its ttl ends, and the next call after that runs the work.';

export const NOT_A_CACHE = (where: string, value: unknown) =>
  `${where} needs a cache-manager Cache (createCache() of cache-manager 7, or the app's ` +
  `CACHE_MANAGER), got ${typeof value} (${show(value)}).`;

// Nest integration

export const MODULE_MISSING =
  'SingleflightModule is not imported: add SingleflightModule.forRoot() to the imports of your root module';

export const ASYNC_UNKNOWN_OPTION = (where: string, name: string) =>
  `Unknown option "${name}" in ${where}, which takes useFactory (with inject, imports and ` +
  'provideInjectionTokensFrom), useClass or useExisting, and isGlobal. Module options go in the ' +
  `object that useFactory returns: useFactory: () => ({ ${name}: ... }).`;

export const ASYNC_SOURCE = (where: string, given: readonly string[]) =>
  `${where} needs exactly one of useFactory, useClass or useExisting, got ` +
  `${given.length === 0 ? 'none' : given.join(' and ')}.`;

export const KEY_ARGUMENT = (decorator: string, value: unknown) =>
  `@${decorator}() takes a key (a string, or a function of the method's arguments that returns ` +
  `one) and then options, got ${typeof value} (${show(value)}) as its first argument.`;

export const OPTIONS_TWICE = (decorator: string) =>
  `@${decorator}() got two option objects; give the key first (a string or a function), then ` +
  `the options: @${decorator}('key', { ... }) or @${decorator}({ ... }).`;

export const CACHE_OPTION_WITHOUT_TTL = (where: string, name: string) =>
  `${where} sets \`${name}\`, which applies to cached values only, but the method is not cached ` +
  '(no `ttl` of its own or from the module, `ttl: 0`, or it returns an Observable). Add a `ttl` ' +
  `or remove \`${name}\`.`;

export const REFRESH_NOT_BELOW_TTL = (where: string, threshold: number, ttl: number) =>
  `${where} has refreshThreshold ${threshold} ms, not below its ttl of ${ttl} ms, so every hit ` +
  'would refresh the value. Set refreshThreshold below ttl (e.g. a tenth of it), or remove it.';

export const DISTRIBUTED_RETRY = (where: string) =>
  `${where} has a \`retry\` option, but its writes are coordinated through Redis, which retries ` +
  'with `redis.writes.retry` in SingleflightModule.forRoot(). Move it there, or set ' +
  '`distributed: false` on this method.';

export const STATIC_METHOD = (decorator: string, where: string) =>
  `@${decorator}() cannot decorate the static method ${where}: it needs the app's engine, which ` +
  'Nest injects into instances. Move the method to an injectable provider.';

export const NOT_A_METHOD = (decorator: string, where: string) =>
  `@${decorator}() decorates methods, but ${where} is not a method.`;

export const DECORATED_TWICE = (where: string) =>
  `${where} has @SingleFlight() or @MergeWrites() twice; keep one.`;

export const SYNC_METHOD = (decorator: string, where: string, type: string) =>
  `${where} returns ${type}, synchronously: @${decorator}() shares work that is in flight, which a ` +
  'synchronous method never is. Make it async (return a Promise) or an Observable, or remove the decorator.';

export const DEFAULT_KEY_REFUSES = (decorator: string, where: string, n: number, why: string) =>
  `${where}: @${decorator}() without a key would fail every call, since the default key cannot ` +
  `serialize argument ${n} (${why}) without losing information. Pass an explicit key made of what ` +
  `identifies a call, e.g. @${decorator}((id: string) => id).`;

export const SYNC_RESULT = (where: string) =>
  `${where} returned a value that is neither a Promise nor an Observable, so @SingleFlight() passes ` +
  'it through without sharing. Make the method async, or annotate its return type so this shows at start-up.';

export const OBSERVABLE_WRITES = (where: string) =>
  `${where} returns an Observable; @MergeWrites() needs a method that returns a Promise.`;

export const OBSERVABLE_TTL = (where: string) =>
  `${where} returns an Observable, which @SingleFlight() shares but cannot cache: remove \`ttl\`.`;

export const REPLAY_WITHOUT_OBSERVABLE = (where: string) =>
  `${where} sets \`replay\`, which applies to a method that returns an Observable; this one returns ` +
  'a Promise, whose callers all get its one outcome. Remove `replay`.';

export const TTL_WITHOUT_CACHE = (where: string) =>
  `${where} sets \`ttl\`, but caching is off (\`cache: false\` in the module's options). ` +
  'Remove `ttl`, or turn caching on.';

export const SYMBOL_METHOD = (decorator: string, where: string) =>
  `${where} is named by a symbol, which has no name that is the same in every process and ` +
  `unique in the app, so its keys would have no safe scope. Name one: @${decorator}({ scope: 'orders.get' }).`;

export const SCOPE_TAKEN = (scope: string, first: string, second: string) =>
  `Two decorated methods have the scope "${scope}" (${first}, and ${second}): they would share ` +
  'flights, cached values and Redis keys, and invalidate() of one would miss the other. Classes ' +
  "of the same name cause this. Give one of them its own: @SingleFlight({ scope: 'prices.get' }) " +
  'or rename its class.';

export const SCOPE_INHERITED = (scope: string, first: string, second: string) =>
  `The decorated method of scope "${scope}" is called on two classes (${first}, and ${second}), ` +
  'one inheriting it from the other or both from a base: each runs it on its own `this`, but ' +
  'both would share its flights and cached values. Decorate an override in each class instead ' +
  '(calling an undecorated method of the base), so each has its own scope.';

export const PER_INSTANCE_DEFAULT_KEY = (
  decorator: string,
  where: string,
  className: string,
  kind: string,
) =>
  `${where} is on ${className}, which is ${kind}, so what it returns can depend on what the ` +
  `instance holds (the request, its user), but @${decorator}() uses the default key, which holds ` +
  'only the arguments: concurrent calls through different instances would share one result, and ' +
  "one user could get another's. Either give a key that includes what identifies the caller (a " +
  'key function is called with `this`: ' +
  `@${decorator}(function (this: ${className}, id: string) { return \`\${this.userId}:\${id}\`; })), ` +
  `or, when the result depends on the arguments alone, say so: @${decorator}({ shareAcrossRequests: true }).`;

export const SECOND_INSTANCE = (decorator: string, where: string) =>
  `${where} was called on a second instance of its class, one the app did not register (made ` +
  'by ModuleRef.create(), for example), and each instance may hold its own ' +
  `settings or request, but @${decorator}() uses the default key, which holds only the arguments: ` +
  "one instance's caller could get another's result. Give a key that includes what identifies " +
  `the instance (a key function is called with \`this\`), or say that the result depends on the ` +
  `arguments alone: @${decorator}({ shareAcrossRequests: true }).`;

export const KEY_FN_THREW = (where: string) =>
  `The key function of ${where} threw; fix it, or check the arguments it was given (see cause).`;

export const KEY_FN_NOT_STRING = (where: string, value: unknown) =>
  `The key function of ${where} must return a string, got ${typeof value} (${show(value)}).`;

export const KEY_CONTEXT_THREW = (where: string) =>
  `The module's keyContext threw during a call of ${where}, so the call cannot be keyed by its ` +
  'context and is refused (nothing was shared). Fix keyContext, or call the method where its ' +
  'context is set (see cause); `keyContext: false` on the method opts out for global data.';

export const KEY_CONTEXT_NOT_STRING = (where: string, value: unknown) =>
  `The module's keyContext must return a string or undefined (no context), got ${typeof value} ` +
  `(${show(value)}) during a call of ${where}; the call is refused (nothing was shared). ` +
  "Return the tenant as a string, e.g. `() => cls.get<string>('tenantId')`.";

// Several instances: distributed singleflight (lib/distributed/distributed-flight.ts)

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

export const COORDINATION_RESTORED = (namespace: string) =>
  `Redis coordination of singleflight namespace "${namespace}" is back: instances share flights again.`;

export const BAD_ACQUIRE_REPLY = (reply: unknown) =>
  `The singleflight ACQUIRE script gave an unexpected reply (${show(reply)}); is the Redis adapter ` +
  'returning replies as Redis gives them?';

export const LEASE_LOST = (key: string, leaseMs: number) =>
  `The distributed lease of key "${key}" was lost before its work finished (leaseMs ${leaseMs}), so ` +
  'another instance may run the work too. forget() does this on purpose; otherwise an event-loop ' +
  'stall or a Redis failover did: raise `leaseMs` if it recurs.';

export const RECHECK_FAILED = (key: string) =>
  `Re-checking the cache for key "${key}" after winning the distributed lease failed; the work runs instead.`;

// Distributed MergeWrites (DistributedWriteGroup)

export const WRITE_ARGS_NOT_JSON = (key: string, path: string, what: string) =>
  `Distributed MergeWrites sends the arguments of key "${key}" through Redis as JSON, so they ` +
  `must be JSON-safe, but ${path} is ${what}. Pass plain data (strings, numbers, booleans, null, ` +
  'arrays, plain objects), e.g. an id instead of an entity, or use in-process MergeWrites.';

export const WRITE_BAD_VERSION = (key: string, got: unknown) =>
  `The version(args) of a MergeWrites call of key "${key}" returned ${String(got)}; it must ` +
  'return a finite number that grows with the state the arguments carry (e.g. a row version).';

export const WRITE_WAIT_TIMEOUT = (key: string, ms: number) =>
  `Gave up waiting for a push of key "${key}" after ${ms} ms (waitTimeoutMs). The write is ` +
  'recorded in Redis and stays pending until an instance pushes it; raise `waitTimeoutMs` if ' +
  'pushes are expected to take longer.';

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

// Several instances: the Redis coordinator adapters (lib/distributed/*.adapter.ts)

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

// Metrics and debug logs (SingleflightModule.forRoot({ metrics, debug }))

export const METRICS_NEED_PROM_CLIENT =
  'SingleflightModule has `metrics` on, which needs the prom-client package, and it ' +
  'could not be loaded (see cause). Install it (npm install prom-client), or remove `metrics`.';

export const METRIC_TAKEN = (name: string) =>
  `The metric "${name}" is already registered in the prom-client registry of ` +
  "SingleflightModule's `metrics`: another app in this process has singleflight " +
  'metrics on (app.close() takes them out), or another metric has that name. Give this app its ' +
  'own `registry` or `prefix`.';

// Several instances through the module (forRoot({ redis }))

export const REDIS_CLIENT_MISSING = (where: string) =>
  `\`redis\` in ${where} needs \`client\` (a connected node-redis or ioredis client) ` +
  'or `coordinator` (e.g. nodeRedisAdapter(client)).';

export const REDIS_NAMESPACE_MISSING = (where: string) =>
  `\`redis\` in ${where} needs \`namespace\`, a name unique to this app, e.g. the ` +
  "service's name: redis: { client, namespace: 'orders-service' }. Every instance of the app " +
  'must use the same one, and two apps on one Redis different ones: apps with a class and method ' +
  'of the same name would otherwise share flights and results.';

export const MERGE_AND_VERSION = (where: string) =>
  `${where} has both \`merge\` and \`version\`, which each choose the arguments a run carries. ` +
  'Keep `version` (the newest state wins) or `merge` (fold the waiting calls), not both.';

export const DISTRIBUTED_MERGE = (where: string) =>
  `${where} has a \`merge\` function, but its writes are coordinated through Redis, where the newest ` +
  "call's arguments win. Remove `merge` (fold the state in the push itself), or set " +
  '`distributed: false` on this method.';
