import type { OptionRule } from '../../core/options.validator.js';
import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';

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

/** Where one scope is used in an app: the method's metadata, the class it is called on, a name. */
export interface ScopeUse {
  readonly meta: object;
  readonly owner: object;
  readonly where: string;
}

/**
 * Fails when one scope would hold the flights of two different things in one app: two methods
 * (they would share flights, cached values and Redis keys, and `invalidate()` of one would miss
 * the other), or one decorated method inherited by two classes (their instances run it on a
 * different `this`, but would share its results).
 */
export function checkScopes(uses: Iterable<[scope: string, use: ScopeUse]>): void {
  const first = new Map<string, ScopeUse>();
  for (const [scope, use] of uses) {
    const taken = first.get(scope);
    if (taken === undefined) first.set(scope, use);
    else if (taken.meta !== use.meta) {
      throw new SingleflightOptionsError(messages.SCOPE_TAKEN(scope, taken.where, use.where));
    } else if (taken.owner !== use.owner) {
      throw new SingleflightOptionsError(messages.SCOPE_INHERITED(scope, taken.where, use.where));
    }
  }
}
