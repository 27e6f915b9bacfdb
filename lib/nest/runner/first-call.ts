import { type Observable, isObservable } from 'rxjs';
import { isThenable } from '../decorators/flight-metadata.js';
import { type Method, type CallKeys, type MethodStrategy, Refused } from './method-strategy.js';
import type { ObservableFlight } from './observable-flight.js';
import type { PromiseFlight } from './promise-flight.js';

/** What a method found to return is given next: the strategy of its later calls. */
export interface Decided {
  /** Its strategy as a Promise method (with its cache and fleet, if any). */
  readonly promise: MethodStrategy;
  /** Its strategy as an Observable method. */
  readonly observable: ObservableFlight;
  /** Makes `strategy` the method's strategy in this app, for its later calls. */
  replace(strategy: MethodStrategy): void;
  /** Says the method returned neither a Promise nor an Observable, so it is passed through. */
  warnSync(): void;
}

/**
 * A method whose return type was not annotated (or pins nothing down): its first call runs in a
 * plain flight, neither cached nor shared across instances, and what it returns decides the
 * strategy of the calls after it. A first call that throws decides nothing.
 */
export class FirstCall implements MethodStrategy {
  constructor(
    private readonly keys: CallKeys,
    /** The method's flights without cache or fleet: what it returns is not known yet. */
    private readonly plain: PromiseFlight,
    private readonly decided: Decided,
  ) {}

  call(self: object, method: Method, args: unknown[]): unknown {
    const part = this.keys.part(self, args);
    if (part instanceof Refused) return Promise.reject(part.error);
    let result: unknown;
    let ran = false;
    let thrown: { error: unknown } | undefined;
    const outcome = this.plain.flight(part, () => {
      ran = true;
      try {
        return (result = method.apply(self, args));
      } catch (error) {
        thrown = { error };
        throw error;
      }
    });
    // It joined a first call still in flight (or was refused): that call decides.
    if (!ran) return outcome;
    if (thrown !== undefined) {
      // It threw before returning anything, so what it returns is still unknown: a later call
      // decides. This caller gets the error as the method threw it.
      void outcome.catch(ignore);
      throw thrown.error;
    }
    const { decided } = this;
    let observable: boolean;
    let thenable: boolean;
    try {
      observable = isObservable(result);
      thenable = !observable && isThenable(result);
    } catch {
      // A result whose `lift` or `then` throws when read (a Proxy) cannot be told apart, so it
      // decides nothing; the flight read its `then` too, and its outcome is this caller's.
      return outcome;
    }
    if (observable) {
      decided.replace(decided.observable);
      void outcome.catch(ignore);
      return decided.observable.shareReturned(this.keys.whole(part), result as Observable<unknown>);
    }
    if (thenable) {
      // This call was not cached; the calls after it are, when a ttl applies.
      decided.replace(decided.promise);
      return outcome;
    }
    decided.replace(PASS_THROUGH);
    decided.warnSync();
    void outcome.catch(ignore);
    return result;
  }
}

/** A method found to return neither a Promise nor an Observable: it runs as if undecorated. */
const PASS_THROUGH: MethodStrategy = {
  call: (self, method, args) => method.apply(self, args),
};

function ignore(): void {}
