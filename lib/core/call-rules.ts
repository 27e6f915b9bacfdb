import type { CallOptions, GroupOptions } from './group.interfaces.js';
import { BOOLEAN, DURATION, SIGNAL, forTimer, validateOptions } from './options.validator.js';

const GROUP_RULES = {
  forgetAfter: DURATION,
  shareErrors: BOOLEAN,
  detectAsyncReentry: BOOLEAN,
} as const;

const CALL_RULES = {
  timeout: forTimer(DURATION),
  signal: SIGNAL,
  forgetAfter: DURATION,
  shareErrors: BOOLEAN,
} as const;

/**
 * What one call of a Group asks for: its own options over the group's. A call without options
 * takes the group's rules as they are; nothing is made for it.
 */
export interface CallRules {
  /** How long a flight the call starts takes joiners (ms); undefined: until it settles. */
  readonly forgetAfter: number | undefined;
  /** Whether a joiner takes its flight's error, or runs it again (with the others) instead. */
  readonly shareErrors: boolean;
  readonly timeout: number | undefined;
  readonly signal: AbortSignal | undefined;
  /**
   * A timeout or a signal: the caller may leave before its flight settles. A flight it starts can
   * then be abandoned by every caller, and its work gets a signal that can fire.
   */
  readonly mayLeave: boolean;
}

/** The rules of a group's calls without options; bad options throw a SingleflightOptionsError. */
export function groupRules(options: GroupOptions): CallRules {
  validateOptions('Group options', options, GROUP_RULES);
  return {
    forgetAfter: options.forgetAfter,
    shareErrors: options.shareErrors ?? true,
    timeout: undefined,
    signal: undefined,
    mayLeave: false,
  };
}

/** The rules of a call with `options`; bad options throw a SingleflightOptionsError. */
export function callRules(options: CallOptions, group: CallRules): CallRules {
  // Each option is read once, by the check: what is used is what was checked.
  const read = validateOptions('call options', options, CALL_RULES);
  const { timeout, signal } = read;
  return {
    forgetAfter: read.forgetAfter ?? group.forgetAfter,
    shareErrors: read.shareErrors ?? group.shareErrors,
    timeout,
    signal,
    mayLeave: timeout !== undefined || signal !== undefined,
  };
}
