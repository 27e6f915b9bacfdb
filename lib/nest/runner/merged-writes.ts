import type { WriteEntry } from '../../core/write-group.js';
import { versionOf } from '../../redis/writes/write-version.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import { WriteProbe } from '../observe/flight-probe.js';
import { type Method, type CallKeys, type MethodStrategy, Refused } from './method-strategy.js';

/** Told how a call entered the runs of its key (with an observer). */
export type Entered = (entry: WriteEntry) => void;

/** A `@MergeWrites()` method's `version`, as the engines take it: of an argument list. */
export type VersionOf = (args: unknown[]) => number;

/**
 * A `@MergeWrites()` method: calls with one key are merged into runs of which at most one is in
 * flight. What both engines share is here (the key, the version check, the probe); where the runs
 * happen (this process, or the fleet through Redis) is the subclass's.
 */
export abstract class MergedWrites implements MethodStrategy {
  constructor(
    protected readonly keys: CallKeys,
    protected readonly version: VersionOf | undefined,
    /** `context: true`: the method gets the run's WriteRunContext after its own arguments. */
    protected readonly withContext: boolean,
    private readonly observer: FlightObserver | undefined,
  ) {}

  call(self: object, method: Method, args: unknown[]): Promise<unknown> {
    const part = this.keys.part(self, args);
    if (part instanceof Refused) return Promise.reject(part.error);
    const key = this.keys.whole(part);
    try {
      // A call whose version is no finite number is refused before it joins a run.
      if (this.version !== undefined) versionOf(key, this.version, args);
    } catch (error) {
      this.keys.refused(error);
      return Promise.reject(error);
    }
    const run: Method = (...latest) => method.apply(self, latest);
    if (this.observer === undefined) return this.push(key, args, run);
    const probe = new WriteProbe(this.observer, this.keys.meta.scope, key);
    return probe.called(this.push(key, args, probe.run(run), probe.entered));
  }

  /**
   * Merges this call into the runs of `key`; the run that serves it calls `run` with the newest
   * arguments. With an observer, `entered` is told how the call entered the runs.
   */
  protected abstract push(
    key: string,
    args: unknown[],
    run: Method,
    entered?: Entered,
  ): Promise<unknown>;
}
