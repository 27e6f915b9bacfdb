import { SingleflightArgumentError, toError } from '../../core/singleflight.errors.js';
import * as messages from '../redis.messages.js';

// What an event carries: its arguments, encoded (write-args.ts), and, when the caller gave `version(args)`, their
// version. With versions, the newest state wins whatever order the events reach Redis or an
// instance in; without, the event that arrives last does.

export interface Carried {
  readonly json: string;
  readonly version: number | undefined;
}

/** `version(args)` of a call, checked: a finite number, or a named error for the caller. */
export function versionOf(
  key: string,
  version: ((args: any[]) => number) | undefined,
  args: readonly unknown[],
): number | undefined {
  if (version === undefined) return undefined;
  let v: unknown;
  try {
    v = version(args as unknown[]);
  } catch (error) {
    throw toError(key, error);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new SingleflightArgumentError(messages.WRITE_BAD_VERSION(key, v));
  }
  return v;
}

/** Whether `next` is to replace `current`: a version not lower, or the later one without versions. */
export function supersedes(current: Carried | undefined, next: Carried): boolean {
  if (current === undefined || current.version === undefined || next.version === undefined) {
    return true;
  }
  return next.version >= current.version;
}

/** The newest of a non-empty list in arrival order. */
export function newest<C extends Carried>(list: readonly C[]): C {
  return list.reduce((a, b) => (supersedes(a, b) ? b : a));
}

/** The version in a script's reply ('' or nil when the stored arguments have none). */
export function replyVersion(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const v = Number(value);
  return Number.isFinite(v) ? v : undefined;
}
