import { type Observable, finalize, tap } from 'rxjs';
import type { CallOptions } from '../../core/group.interfaces.js';
import type { WriteEntry } from '../../core/write-group.js';
import {
  SingleflightAbortError,
  SingleflightTimeoutError,
} from '../../core/singleflight.errors.js';
import { isThenable } from '../decorators/flight-metadata.js';
import type { CallKind, FlightObserver } from './flight-observer.js';

type Run = (...args: unknown[]) => unknown;

/**
 * One call of a decorated method, watched for a FlightObserver; made only when one is on. What
 * the call was (led, joined, queued...) is what its engine told it as it entered, never a guess.
 */
abstract class CallProbe {
  constructor(
    protected readonly observer: FlightObserver,
    /** The decorated `Class.method`. */
    protected readonly method: string,
    /** The call's whole key, `Class.method:<key>`. */
    protected readonly key: string,
  ) {}

  /**
   * Reports the call as its engine told it entered (`kind`). A call told nothing was refused
   * before it entered (a re-entry of its own key, a throwing merge): it is reported with its
   * error once that is known. Returns whether the call entered.
   */
  protected reported(kind: CallKind | undefined, outcome: Promise<unknown>): boolean {
    const { observer, method, key } = this;
    if (kind === undefined) {
      outcome.then(undefined, (error: unknown) => observer.called(method, key, 'rejected', error));
      return false;
    }
    observer.called(method, key, kind);
    return true;
  }

  /** Reports that the flight's work starts; returns when, for `flightSettled`. */
  protected flightStarted(): number {
    this.observer.flightStarted(this.method, this.key);
    return performance.now();
  }

  protected flightSettled(
    started: number,
    failed: boolean,
    error: unknown,
    fromCache: boolean | undefined,
  ): void {
    const seconds = secondsSince(started);
    this.observer.flightSettled(this.method, this.key, { seconds, failed, error, fromCache });
  }
}

/**
 * Watches one call of a `@SingleFlight()` method that returns a Promise. The Group tells whether
 * the call led or joined (`entered`).
 */
export class FlightProbe extends CallProbe {
  #kind: 'led' | 'joined' | undefined = undefined;
  #ran = false;

  constructor(
    observer: FlightObserver,
    method: string,
    key: string,
    /** Whether the flight goes through the cache, so a flight without the method's run is a hit. */
    private readonly cached: boolean,
  ) {
    super(observer, method, key);
  }

  /** What the Group tells the call as it enters: it joined a flight in progress, or led one. */
  readonly entered = (joined: boolean): void => {
    this.#kind = joined ? 'joined' : 'led';
  };

  /** The method's own run; that it ran tells a cache miss from a hit in the cache store. */
  work(run: () => unknown): () => unknown {
    return () => {
      this.#ran = true;
      return run();
    };
  }

  /** The flight's work, which Group runs only for the call that leads. */
  flight(fn: () => unknown): () => unknown {
    return () => {
      const started = this.flightStarted();
      let result: unknown;
      try {
        result = fn();
      } catch (error) {
        this.#settled(started, true, error);
        throw error;
      }
      // Observed beside Group, on the work's own promise: what Group gives callers is untouched.
      if (isThenable(result)) {
        Promise.resolve(result).then(
          () => this.#settled(started, false, undefined),
          (error: unknown) => this.#settled(started, true, error),
        );
      } else {
        this.#settled(started, false, undefined);
      }
      return result;
    };
  }

  /** Reports the call once `do()` returned its outcome, and a timeout or abort of this caller. */
  called(outcome: Promise<unknown>, call: CallOptions | undefined): Promise<unknown> {
    // Group rejects a caller on its own only through its call options (timeout, signal).
    if (this.reported(this.#kind, outcome) && call !== undefined) {
      const { observer, method, key } = this;
      outcome.then(undefined, (error: unknown) => {
        if (isOwnLeave(error, key)) observer.callLeft(method, key, error);
      });
    }
    return outcome;
  }

  #settled(started: number, failed: boolean, error: unknown): void {
    this.flightSettled(started, failed, error, this.cached ? !this.#ran : undefined);
  }
}

/**
 * Watches one call of a `@SingleFlight()` method that returns an Observable. Subscribing is
 * calling: ObservableGroup tells each subscription, as it enters, whether it started the shared
 * upstream (led) or joined it, and it is reported then.
 */
export class SharedProbe extends CallProbe {
  /** What ObservableGroup tells each subscription as it enters. */
  readonly entered = (joined: boolean): void => {
    this.observer.called(this.method, this.key, joined ? 'joined' : 'led');
  };

  /** The upstream, which ObservableGroup subscribes only for the subscription that leads. */
  source(source: () => Observable<unknown>): () => Observable<unknown> {
    return () => {
      const started = this.flightStarted();
      let failed = false;
      let error: unknown;
      let upstream: Observable<unknown>;
      try {
        upstream = source();
      } catch (thrown) {
        this.flightSettled(started, true, thrown, undefined);
        throw thrown;
      }
      // finalize runs on completion, error, and teardown when the last subscriber leaves.
      return upstream.pipe(
        tap({
          error: (thrown: unknown) => {
            failed = true;
            error = thrown;
          },
        }),
        finalize(() => this.flightSettled(started, failed, error, undefined)),
      );
    };
  }
}

/**
 * Watches one call of a `@MergeWrites()` method. WriteGroup tells the call, as it enters, whether
 * its run started at once (led), it became the follow-up run (queued) or it merged into that
 * follow-up (merged). WriteGroup runs the newest waiting call's function (once per try), so a call
 * whose function never ran was served by a newer call's run: coalesced.
 */
export class WriteProbe extends CallProbe {
  #kind: 'led' | 'queued' | 'merged' | undefined = undefined;
  #tries = 0;
  #started = 0;

  /** What WriteGroup tells the call as it enters. */
  readonly entered = (entry: WriteEntry): void => {
    this.#kind = entry === 'ran' ? 'led' : entry;
  };

  /** This call's run: its first try starts a run; later ones are retries. */
  run(run: Run): Run {
    return (...args: unknown[]) => {
      const attempt = ++this.#tries;
      if (attempt === 1) {
        this.#started = performance.now();
        this.observer.writeStarted(this.method, this.key);
      } else {
        this.observer.writeRetried(this.method, this.key, attempt);
      }
      return run(...args);
    };
  }

  /** Reports the call once `do()` returned; a run's outcome and coalesced calls once settled. */
  called(outcome: Promise<unknown>): Promise<unknown> {
    if (this.reported(this.#kind, outcome)) {
      outcome.then(
        () => this.#settled(false, undefined),
        (error: unknown) => this.#settled(true, error),
      );
    }
    return outcome;
  }

  #settled(failed: boolean, error: unknown): void {
    const { observer, method, key } = this;
    if (this.#tries === 0) return observer.writeCoalesced(method, key);
    observer.writeSettled(method, key, { seconds: secondsSince(this.#started), failed, error });
  }
}

function isOwnLeave(
  error: unknown,
  key: string,
): error is SingleflightTimeoutError | SingleflightAbortError {
  // An inner flight's timeout that the work passed on has another key: that is the flight failing.
  return (
    (error instanceof SingleflightTimeoutError || error instanceof SingleflightAbortError) &&
    error.key === key
  );
}

function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
