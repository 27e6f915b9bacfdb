import type { FlightMetadata } from '../decorators/flight-metadata.js';
import { keyPartOf } from '../decorators/flight-metadata.js';
import type { KeyContext } from '../decorators/key-context.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import { type OneInstance, checkInstance } from './one-instance.js';

/** A decorated method as the wrapper found it: called with the instance as `this`. */
export type Method = (...args: unknown[]) => unknown;

/**
 * How the calls of one decorated method run in one app: a Promise flight, an Observable flight or
 * merged writes, each with what the method's options ask for (a cache, the Redis fleet, an
 * observer). The runner chooses it once per method, at start-up (see chooseStrategy), so a call
 * consults no option: the strategy already is what the options said.
 */
export interface MethodStrategy {
  call(self: object, method: Method, args: unknown[]): unknown;
}

/** A call refused before it reached an engine, with the error its caller gets. */
export class Refused {
  constructor(readonly error: unknown) {}
}

/**
 * How a method's calls get their keys, the same for every strategy: `${scope}:${part}`, where
 * the part comes from the method's key (see keyPartOf) under the module's keyContext, unless the
 * method opted out (`keyContext: false`).
 */
export class CallKeys {
  constructor(
    readonly meta: FlightMetadata,
    private readonly context: KeyContext | undefined,
    /**
     * With the default key and no `shareAcrossRequests`: the one instance whose calls share
     * flights (set by its first call), else undefined. The explorer refuses a second registered
     * instance at start-up; this catches the ones it cannot see (ModuleRef.create).
     */
    private readonly only: OneInstance | undefined,
    private readonly observer: FlightObserver | undefined,
  ) {}

  /**
   * The key part of a call, or its refusal (a SingleflightKeyError naming the method and the fix),
   * which is reported as a rejected call.
   */
  part(self: object, args: unknown[]): string | Refused {
    try {
      if (this.only !== undefined) checkInstance(this.meta, this.only, self);
      return keyPartOf(this.meta, self, args, this.context);
    } catch (error) {
      this.refused(error);
      return new Refused(error);
    }
  }

  /** The whole key of a part, as errors, the cache, Redis and observers see it. */
  whole(part: string): string {
    return `${this.meta.scope}:${part}`;
  }

  /** A call that failed before reaching an engine (its key could not be built, a bad version). */
  refused(error: unknown): void {
    this.observer?.called(this.meta.scope, undefined, 'rejected', error);
  }
}
