// The texts the core shows a user; each layer keeps its own beside it. Each says what went wrong
// and what to do.
import { inspect } from 'node:util';

/** A value as a message shows it: strings quoted, objects by their fields. */
export const show = (value: unknown): string =>
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
