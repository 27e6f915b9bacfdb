import { SingleflightKeyError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';

/**
 * The module's `keyContext`: what the current call belongs to (a tenant, read from
 * AsyncLocalStorage or nestjs-cls), or undefined for a call that belongs to none.
 * @publicApi
 */
export type KeyContext = () => string | undefined;

const RESERVED = /[%:]/;

/**
 * The key part of a call under a context, what follows `Class.method:` in its whole key:
 * `@<context>:<key>` for a context, `:<key>` for a call without one (undefined). '%' and ':' in
 * the context are written `%25` and `%3A`, so the context ends at the first ':' after the '@'.
 *
 * Injective: the first character tells whether a context is there; if so, the escaped context
 * has no ':' and reverses uniquely, and the key is all the rest. So tenant 'a:b' with key 'c'
 * (`@a%3Ab:c`) never meets tenant 'a' with key 'b:c' (`@a:b:c`), and no call without a
 * context meets a call with one. Calls without a context share with each other.
 */
export function contextualPart(where: string, keyContext: KeyContext, part: string): string {
  let context: unknown;
  try {
    context = keyContext();
  } catch (error) {
    throw new SingleflightKeyError(messages.KEY_CONTEXT_THREW(where), { cause: error });
  }
  if (context === undefined) return `:${part}`;
  if (typeof context !== 'string') {
    throw new SingleflightKeyError(messages.KEY_CONTEXT_NOT_STRING(where, context));
  }
  return `@${escapeContext(context)}:${part}`;
}

/** '%' and ':' as `%25` and `%3A`; any other text as it is. */
export function escapeContext(context: string): string {
  return RESERVED.test(context) ? context.replaceAll('%', '%25').replaceAll(':', '%3A') : context;
}
