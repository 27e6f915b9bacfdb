import type { RedisScript } from '../coordinator/coordinator.interface.js';
import * as messages from '../redis.messages.js';

// Script replies as the coordinator hands them over (RESP2 shapes: integers, strings, arrays,
// null). Each protocol reads them into a typed union in one place (flight.replies.ts,
// write.replies.ts) with these helpers, so no engine indexes a raw array.

/** A reply that is none of the shapes its script can give: the adapter or the server is wrong. */
export function badReply(script: RedisScript, reply: unknown): Error {
  return new TypeError(messages.BAD_SCRIPT_REPLY(script.name, reply));
}

/** The array a multi-value script replies with. */
export function replyList(script: RedisScript, reply: unknown): readonly unknown[] {
  if (!Array.isArray(reply)) throw badReply(script, reply);
  return reply;
}

/** An integer of a reply (Lua numbers come back as integers, or as strings from HGET). */
export function replyInt(script: RedisScript, reply: unknown, value: unknown): number {
  const n = Number(value);
  if (value === null || value === undefined || value === '' || !Number.isFinite(n)) {
    throw badReply(script, reply);
  }
  return n;
}

/** A string of a reply; nil (a missing hash field) reads as ''. */
export function replyText(value: unknown): string {
  return typeof value === 'string' ? value : value == null ? '' : String(value);
}

/** A 1/0 reply of a compare-and-set script (EXTEND, RELEASE, COMPLETE). */
export function replyFlag(reply: unknown): boolean {
  return Number(reply) === 1;
}
