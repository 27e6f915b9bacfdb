import * as messages from '../redis.messages.js';
import type { CoordinationLog as Log } from '../shared/coordination-link.js';
import type { WriteLedger, WriteRun } from './distributed-write-group.interfaces.js';

// The durable ledger's side of a push: every push, fleet-led or in-process, is bracketed by
// started() and finished() with the fence and the arguments it carries, so the ledger records
// what the downstream actually received (docs/redis-writes.md, "Sweep"; WriteLedger's recipe).

export const isLedger = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  ['started', 'finished', 'pending'].every(
    (name) => typeof (v as Record<string, unknown>)[name] === 'function',
  );

/**
 * `run` bracketed by the ledger: a throw of started() fails the push (it is retried like any
 * failed push); a throw of finished() is logged, since the push itself landed and the sweep
 * pushes the key again if the ledger still calls it pending.
 */
export function withLedger(
  ledger: WriteLedger | undefined,
  log: Log,
  run: WriteRun<any[], unknown>,
): WriteRun<any[], unknown> {
  if (ledger === undefined) return run;
  return async (args, context) => {
    await ledger.started(context.key, context.fence, args);
    const value = await run(args, context);
    await ledger
      .finished(context.key, context.fence, args)
      .catch((error: unknown) => log(messages.WRITE_LEDGER_FAILED('finished()'), error));
    return value;
  };
}
