// Every text this library shows a user, in one place. Each says what went wrong and what to do.

const show = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : typeof value === 'function'
      ? 'a function'
      : String(value);

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

export const THROWN_VALUE = (key: string, value: unknown) =>
  `The work for key "${key}" threw a value that is not an Error (${show(value)}); it is kept as \`cause\`.`;

export const UNKNOWN_OPTION = (where: string, name: string, allowed: readonly string[]) =>
  `Unknown option "${name}" in ${where}. Allowed: ${allowed.join(', ')}.`;

export const BAD_OPTION = (where: string, name: string, expected: string, value: unknown) =>
  `Option "${name}" in ${where} must be ${expected}, got ${show(value)}.`;

export const UNSERIALIZABLE_ARGUMENT = (where: string, path: string, what: string) =>
  `${where}: the default key cannot serialize ${path} (${what}) without losing ` +
  'information, and two different calls could then share one result. ' +
  'Pass an explicit key, e.g. @SingleFlight((id: string) => `user:${id}`).';

// Nest integration

export const MODULE_MISSING =
  'SingleflightModule is not imported: add SingleflightModule.forRoot() to the imports of your root module';

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

export const SYNC_RESULT = (where: string) =>
  `${where} returned a value that is neither a Promise nor an Observable, so @SingleFlight() passes ` +
  'it through without sharing. Make the method async, or annotate its return type so this shows at start-up.';

export const OBSERVABLE_WRITES = (where: string) =>
  `${where} returns an Observable; @MergeWrites() needs a method that returns a Promise.`;

export const OBSERVABLE_TTL = (where: string) =>
  `${where} returns an Observable, which @SingleFlight() shares but cannot cache: remove \`ttl\`.`;

export const TTL_WITHOUT_CACHE = (where: string) =>
  `${where} sets \`ttl\`, but caching is off (\`cache: false\` in SingleflightModule.forRoot()). ` +
  'Remove `ttl`, or turn caching on.';

export const KEY_FN_THREW = (where: string) =>
  `The key function of ${where} threw; fix it, or check the arguments it was given (see cause).`;

export const KEY_FN_NOT_STRING = (where: string, value: unknown) =>
  `The key function of ${where} must return a string, got ${typeof value} (${show(value)}).`;
