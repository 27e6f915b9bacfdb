/**
 * The key a store gets for a cache key. A store that keeps its keys as UTF-8 (Redis, a file)
 * turns every lone surrogate into U+FFFD, so `user\ud800`, `user\udbff` and `user\ufffd` would
 * share one value: one caller could read a value computed for another key.
 *
 * So U+FFFD is an escape: U+FFFD itself is written twice, and a lone surrogate as U+FFFD and its
 * four lowercase hex digits. The result is well-formed text (UTF-8 keeps every key apart), the
 * function is injective (after an escape comes U+FFFD or a hex digit, never both), and a key with
 * neither, nearly every key, is given to the store as it is, followed by STORE_KEY_VERSION.
 */
export function storeKey(key: string): string {
  return (NEEDS_ESCAPE.test(key) ? key.replace(ESCAPED, escape) : key) + STORE_KEY_VERSION;
}

/**
 * The version of how values are stored (store-values.ts), ending every store key: a release that
 * stores values another way (0.1 kept plain JSON under the bare key) never reads this one's, nor
 * this one its, even while both run during a rolling deploy. Appending one constant keeps the
 * function injective.
 */
export const STORE_KEY_VERSION = '#sf1';

/** U+FFFD or any surrogate (a pair is well-formed, but cheaper to look at twice than to parse). */
const NEEDS_ESCAPE = /[\ufffd\ud800-\udfff]/;
/** U+FFFD, a high surrogate with no low one after it, or a low one with no high one before it. */
const ESCAPED = /\ufffd|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escape(unit: string): string {
  return unit === '\ufffd' ? '\ufffd\ufffd' : `\ufffd${unit.charCodeAt(0).toString(16)}`;
}
