import { type WriteGroup, methodDo } from '../../core/write-group.js';
import type { RetryOptions } from '../../core/write-group.interfaces.js';
import { localRunContext } from '../../redis/writes/local-run-context.js';
import { versionOf } from '../../redis/writes/write-version.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import { type Entered, MergedWrites, type VersionOf } from './merged-writes.js';
import type { Method, CallKeys } from './method-strategy.js';

type Merge = (pending: unknown[], next: unknown[]) => unknown[];

/** A `@MergeWrites()` method whose runs stay in this process, in the app's WriteGroup. */
export class LocalWrites extends MergedWrites {
  constructor(
    keys: CallKeys,
    version: VersionOf | undefined,
    withContext: boolean,
    observer: FlightObserver | undefined,
    private readonly writes: WriteGroup,
    private readonly merge: Merge | undefined,
    private readonly retry: RetryOptions | undefined,
  ) {
    super(keys, version, withContext, observer);
  }

  protected push(key: string, args: unknown[], run: Method, entered?: Entered): Promise<unknown> {
    const merge = this.version === undefined ? this.merge : newestByVersion(key, this.version);
    const fn = this.withContext ? withLocalContext(key, run) : run;
    return methodDo(this.writes, key, fn, { args, merge, retry: this.retry }, entered);
  }
}

/**
 * A run's context without Redis: fence 0 (runs of one instance never overlap, so there is nothing
 * to fence) and a signal that never aborts.
 */
function withLocalContext(key: string, run: Method): Method {
  return (...latest) => run(...latest, localRunContext(key, 0));
}

/**
 * `version` among the calls that wait for one run in this process: the arguments with the highest
 * version win (the later call on a tie), as they do in Redis.
 */
function newestByVersion(key: string, version: VersionOf): Merge {
  return (pending, next) =>
    versionOf(key, version, next)! >= versionOf(key, version, pending)! ? next : pending;
}
