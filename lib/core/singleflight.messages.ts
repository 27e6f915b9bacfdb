// Every text this library shows a user, in one place. Each says what went wrong and what to do.

const show = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : typeof value === 'function' ? 'a function' : String(value);

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
