import { createHash } from 'node:crypto';
import type { RedisScript } from './coordinator.interface.js';

// Scripts are module constants, so a WeakMap computes each SHA1 once and never grows unbounded.
const shas = new WeakMap<RedisScript, string>();

/** The SHA1 (hex) that EVALSHA and SCRIPT LOAD use for `script`. */
export function scriptSha(script: RedisScript): string {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script.source).digest('hex');
    shas.set(script, sha);
  }
  return sha;
}

/**
 * The hash tag of `key` in Redis under `namespace`: the SHA1 (hex) of an injective encoding of the
 * pair. The namespace's length goes first, so no namespace and key run into each other; the text is
 * hashed as UTF-16 code units, so keys that differ only in lone surrogates stay apart (UTF-8 would
 * turn each lone surrogate into U+FFFD).
 */
export function keyHash(namespace: string, key: string): string {
  return createHash('sha1')
    .update(`${namespace.length}:${namespace}${key}`, 'utf16le')
    .digest('hex');
}

/** Redis does not have the script cached (restart, failover, SCRIPT FLUSH): run it with EVAL. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
