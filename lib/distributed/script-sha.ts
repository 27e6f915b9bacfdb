import { createHash } from 'node:crypto';
import type { RedisScript } from './coordinator.interface.js';

// Scripts are module constants, so a WeakMap computes each SHA1 once and never grows unbounded.
const shas = new WeakMap<RedisScript, string>();

/** The SHA1 (hex) that EVALSHA and SCRIPT LOAD use for `script`. */
export function scriptSha(script: RedisScript): string {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = sha1Hex(script.source);
    shas.set(script, sha);
  }
  return sha;
}

/** The SHA1 (hex) of `text`: a script's digest, and the hash tag of a user key in Redis. */
export function sha1Hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Redis does not have the script cached (restart, failover, SCRIPT FLUSH): run it with EVAL. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
