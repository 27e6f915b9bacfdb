import { replyInt, replyList, replyText } from '../shared/script-reply.js';
import { EVENT, FINISH, PEEK, RECOVER } from './write.scripts.js';
import { type Carried, replyVersion } from './write-version.js';

// The replies of the MergeWrites scripts (write.scripts.ts), read into typed unions: the one
// place that knows their positions.

/**
 * A run this instance starts: the first `ver` it covers, its fence and the newest arguments, as
 * stored in Redis (sealed with a secret: the run opens them, write-args.ts).
 */
export interface RunStart {
  readonly startVer: number;
  readonly fence: number;
  readonly carried: Carried;
}

export type EventReply =
  | ({ readonly run: true; readonly ver: number } & RunStart)
  | { readonly run: false; readonly ver: number; readonly pttl: number };

export type FinishReply =
  | { readonly code: 'lost' }
  | { readonly code: 'done'; readonly done: number }
  | ({ readonly code: 'again'; readonly done: number } & RunStart);

export type RecoverReply =
  | { readonly code: 'idle'; readonly done: number }
  | ({ readonly code: 'run' } & RunStart)
  | { readonly code: 'running'; readonly done: number; readonly pttl: number };

export interface PeekReply {
  readonly ver: number;
  readonly done: number;
  readonly key: string | undefined;
}

/** The arguments a script's reply hands to a run, and their version. */
const carriedOf = (json: unknown, version: unknown): Carried => ({
  json: replyText(json),
  version: replyVersion(version),
});

/** `{1, ver, fence, args, argsv}`: you run. `{0, ver, pttl}`: someone runs. */
export function parseEvent(reply: unknown): EventReply {
  const r = replyList(EVENT, reply);
  const ver = replyInt(EVENT, reply, r[1]);
  if (Number(r[0]) !== 1) return { run: false, ver, pttl: replyInt(EVENT, reply, r[2]) };
  const fence = replyInt(EVENT, reply, r[2]);
  return { run: true, ver, startVer: ver, fence, carried: carriedOf(r[3], r[4]) };
}

/** `{-1}`: lease lost. `{0, done}`: finished. `{1, done, ver, fence, args, argsv}`: run again. */
export function parseFinish(reply: unknown): FinishReply {
  const r = replyList(FINISH, reply);
  const code = Number(r[0]);
  if (code === -1) return { code: 'lost' };
  const done = replyInt(FINISH, reply, r[1]);
  if (code === 0) return { code: 'done', done };
  const startVer = replyInt(FINISH, reply, r[2]);
  const fence = replyInt(FINISH, reply, r[3]);
  return { code: 'again', done, startVer, fence, carried: carriedOf(r[4], r[5]) };
}

/** `{0, done}`: nothing pending. `{1, ver, fence, args, argsv}`: you run. `{2, done, pttl}`. */
export function parseRecover(reply: unknown): RecoverReply {
  const r = replyList(RECOVER, reply);
  const code = Number(r[0]);
  if (code === 1) {
    const startVer = replyInt(RECOVER, reply, r[1]);
    const fence = replyInt(RECOVER, reply, r[2]);
    return { code: 'run', startVer, fence, carried: carriedOf(r[3], r[4]) };
  }
  const done = replyInt(RECOVER, reply, r[1]);
  if (code === 2) return { code: 'running', done, pttl: replyInt(RECOVER, reply, r[2]) };
  return { code: 'idle', done };
}

/** `{ver, done, key}`, nil where the hash has no such field. */
export function parsePeek(reply: unknown): PeekReply {
  const [ver, done, key] = replyList(PEEK, reply);
  return { ver: Number(ver), done: Number(done), key: typeof key === 'string' ? key : undefined };
}
