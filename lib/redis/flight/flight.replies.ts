import { badReply, replyInt, replyList } from '../shared/script-reply.js';
import { ACQUIRE } from './flight.scripts.js';

/** What ACQUIRE answers: lead, reuse a recent result, or follow `holder` (lease left `pttl` ms). */
export type AcquireReply =
  | { role: 'leader' }
  | { role: 'reused'; envelope: string }
  | { role: 'follower'; holder: string; pttl: number };

export function parseAcquire(reply: unknown): AcquireReply {
  const [role, a, b] = replyList(ACQUIRE, reply);
  const code = Number(role);
  if (code === 1) return { role: 'leader' };
  if (code === 2 && typeof a === 'string') return { role: 'reused', envelope: a };
  if (code === 0 && typeof a === 'string') {
    return { role: 'follower', holder: a, pttl: replyInt(ACQUIRE, reply, b) };
  }
  throw badReply(ACQUIRE, reply);
}
