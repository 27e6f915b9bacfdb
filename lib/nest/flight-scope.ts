import type { OptionRule } from '../core/options.validator.js';
import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import * as messages from '../core/singleflight.messages.js';

/**
 * The scope of a decorated method: the part of its keys before the first ':'. It is the `scope`
 * option when given, else `Class.method` with '%', ':' and '.' in either name written as `%25`,
 * `%3A` and `%2E`. So the derived scope is an injective function of the two names (the first '.'
 * separates them, and the escape can be undone), it never holds a ':', and it depends on nothing
 * but the source: every process of a fleet derives the same scope, whatever order it loaded its
 * classes in. Two methods of one app with the same scope (two classes of the same name) fail at
 * start-up (see `checkScopes`); a method named by a symbol has no stable name, so it needs `scope`.
 */
export function scopeOf(
  decorator: string,
  className: string,
  propertyKey: string | symbol,
  explicit: string | undefined,
): string {
  if (explicit !== undefined) return explicit;
  if (typeof propertyKey === 'symbol') {
    throw new SingleflightOptionsError(
      messages.SYMBOL_METHOD(decorator, `${className}.${String(propertyKey)}`),
    );
  }
  return `${escapeName(className)}.${escapeName(propertyKey)}`;
}

const RESERVED = /[%:.]/g;
const ESCAPES: Record<string, string> = { '%': '%25', ':': '%3A', '.': '%2E' };

function escapeName(name: string): string {
  return name.replace(RESERVED, (c) => ESCAPES[c]!);
}

/** The `scope` option: a name that keys can be split from at their first ':'. */
export const SCOPE: OptionRule = [
  'a non-empty string without ":" (it separates the scope from the key)',
  (v) => typeof v === 'string' && v.length > 0 && !v.includes(':'),
];

/** Where one scope is used in an app: the method's metadata and its name for messages. */
export interface ScopeUse {
  readonly meta: object;
  readonly where: string;
}

/**
 * Fails when two different methods of one app have the same scope: they would share flights,
 * cached values and Redis keys, and `invalidate()` of one would miss the other.
 */
export function checkScopes(uses: Iterable<[scope: string, use: ScopeUse]>): void {
  const owners = new Map<string, ScopeUse>();
  for (const [scope, use] of uses) {
    const owner = owners.get(scope);
    if (owner === undefined) owners.set(scope, use);
    else if (owner.meta !== use.meta) {
      throw new SingleflightOptionsError(messages.SCOPE_TAKEN(scope, owner.where, use.where));
    }
  }
}
