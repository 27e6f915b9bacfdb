import { versionOf } from '../../redis/writes/write-version.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import { WriteProbe } from '../observe/flight-probe.js';
import type { Method, CallKeys, MethodStrategy } from './method-strategy.js';

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
    let key: string;
    try {
      key = this.keys.whole(this.keys.part(self, args));
      // A call whose version is no finite number is refused before it joins a run.
      if (this.version !== undefined) versionOf(key, this.version, args);
    } catch (error) {
      this.keys.refused(error);
      return Promise.reject(error);
    }
    const run: Method = (...latest) => method.apply(self, latest);
    if (this.observer === undefined) return this.push(key, args, run, undefined);
    const probe = new WriteProbe(this.observer, this.keys.meta.scope, key);
    return probe.called(this.push(key, args, probe.run(run), probe));
  }

  /**
   * Merges this call into the runs of `key`; the run that serves it calls `run` with the newest
   * arguments. `probe`, with an observer, watches the call.
   */
  protected abstract push(
    key: string,
    args: unknown[],
    run: Method,
    probe: WriteProbe | undefined,
  ): Promise<unknown>;
}
