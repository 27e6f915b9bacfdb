// The texts of the Nest integration. Each says what went wrong and what to do.
import { show } from '../core/singleflight.messages.js';

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

export const IMPORTED_TWICE = (count: number, importers: string) =>
  `SingleflightModule is imported ${count} times (by ${importers || 'the app'}): each ` +
  'import has engines and a cache of its own, so a method would not share flights with the ' +
  "other import's methods, and FlightCache.invalidate() or Group.forget() through one would miss " +
  "the other's cached values. Import it once, in the root module, and give per-method options " +
  'to @SingleFlight() and @MergeWrites().';

export const SCOPE_TAKEN = (scope: string, first: string, second: string) =>
  `Two decorated methods have the scope "${scope}" (${first}, and ${second}): they would share ` +
  'flights, cached values and Redis keys, and invalidate() of one would miss the other. Classes ' +
  "of the same name cause this. Give one of them its own: @SingleFlight({ scope: 'prices.get' }) " +
  'or rename its class.';

export const SCOPE_TAKEN_LATER = (scope: string) =>
  `Two decorated methods have the scope "${scope}": one the app checked at start-up, and one of ` +
  'a class it did not register then (made by ModuleRef.create(), or provided by a lazy-loaded ' +
  'module). They would share flights, cached values and Redis keys, so its calls are refused. ' +
  'Classes of the same name cause this. Give one of them its own: @SingleFlight({ scope: ' +
  "'prices.get' }) or rename its class.";

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

export const APP_CACHE_NOT_READY =
  "FlightCache was used before the app's CACHE_MANAGER was created (from a provider's factory or " +
  'constructor): use it from onModuleInit() or later, or register the CacheModule with ' +
  '`isGlobal: true`.';

export const APP_CACHE_HIDDEN = (why: 'several' | 'scoped') =>
  (why === 'several'
    ? 'The app registers CACHE_MANAGER in several modules, and SingleflightModule cannot tell ' +
      'which one to use'
    : "The app's CACHE_MANAGER is request-scoped, and SingleflightModule needs one cache for " +
      'the whole app') +
  ', so it keeps values in its own in-memory cache. Register the one to use with ' +
  '`CacheModule.register({ isGlobal: true })`, or give it Keyv stores: ' +
  'SingleflightModule.forRoot({ cache: { stores } }).';

export const REDIS_CLIENT_MISSING = (where: string) =>
  `\`redis\` in ${where} needs \`url\` (the module then makes, connects and closes its own ` +
  'client), `client` (a connected node-redis or ioredis client of yours) or `coordinator` ' +
  '(e.g. nodeRedisAdapter(client)).';

export const REDIS_URL_WITH_CLIENT = (where: string, other: string) =>
  `\`redis\` in ${where} has \`url\` and \`${other}\`: with \`url\` the module makes, ` +
  `connects and closes its own client; with \`${other}\` it uses yours. Give one of them.`;

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

// The typed FlightCache.invalidate(Class, method, ...args)

export const NOT_A_FLIGHT = (where: string, decorator: string | undefined) =>
  `FlightCache.invalidate() got ${where}, which is ` +
  (decorator === undefined ? 'not a method with @SingleFlight()' : `a @${decorator}() method`) +
  ': only the values of @SingleFlight() methods are cached. Name a @SingleFlight() method of ' +
  'that class (an inherited one counts).';

export const NOT_CACHED = (where: string) =>
  `FlightCache.invalidate() got ${where}, whose values are not cached in this app (no \`ttl\` of ` +
  'its own or from the module, `ttl: 0`, or it returns an Observable), so there is nothing to ' +
  'invalidate. Give it a `ttl`, or forget its flight with group.forget(key).';

export const KEY_FN_WITHOUT_THIS = (where: string, scope: string) =>
  `FlightCache.invalidate() cannot build the key of ${where}: its key function is called with ` +
  '`this`, and the app has no one instance of the class (it is request-scoped, transient or ' +
  'registered twice). Give the whole key as a string, ' +
  `invalidate(\`${scope}:<key>\`), or make the key function an arrow function of the arguments.`;
