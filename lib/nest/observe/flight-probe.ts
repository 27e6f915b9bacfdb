import { type Observable, finalize, tap } from 'rxjs';
import type { CallOptions } from '../../core/group.interfaces.js';
import type { WriteEntry } from '../../core/write-group.js';
import {
  SingleflightAbortError,
  SingleflightTimeoutError,
} from '../../core/singleflight.errors.js';
import { isThenable } from '../decorators/flight-metadata.js';
import type { FlightObserver } from './flight-observer.js';

type Run = (...args: unknown[]) => unknown;

/**
 * Watches one call of a `@SingleFlight()` method that returns a Promise, for a FlightObserver.
 * Made only when an observer is on. The Group tells whether the call led or joined (`entered`);
 * a call it told neither was refused (a re-entry of its own key).
 */
export class FlightProbe {
  #kind: 'led' | 'joined' | undefined = undefined;
  #ran = false;

  constructor(
    private readonly observer: FlightObserver,
    private readonly method: string,
    private readonly key: string,
    /** Whether the flight goes through the cache, so a flight without the method's run is a hit. */
    private readonly cached: boolean,
  ) {}

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
      this.observer.flightStarted(this.method, this.key);
      const started = performance.now();
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
    const { observer, method, key } = this;
    const kind = this.#kind;
    if (kind === undefined) {
      outcome.then(undefined, (error: unknown) => observer.called(method, key, 'rejected', error));
      return outcome;
    }
    observer.called(method, key, kind);
    // Group rejects a caller on its own only through its call options (timeout, signal).
    if (call !== undefined) {
      outcome.then(undefined, (error: unknown) => {
        if (isOwnLeave(error, key)) observer.callLeft(method, key, error);
      });
    }
    return outcome;
  }

  #settled(started: number, failed: boolean, error: unknown): void {
    const fromCache = this.cached ? !this.#ran : undefined;
    this.observer.flightSettled(
      this.method,
      this.key,
      secondsSince(started),
      failed,
      error,
      fromCache,
    );
  }
}

/**
 * Watches one call of a `@SingleFlight()` method that returns an Observable. Subscribing is
 * calling: ObservableGroup tells each subscription, as it enters, whether it started the shared
 * upstream (led) or joined it.
 */
export class SharedProbe {
  constructor(
    private readonly observer: FlightObserver,
    private readonly method: string,
    private readonly key: string,
  ) {}

  /** Reports a subscription as a call, with what ObservableGroup told it. */
  readonly entered = (joined: boolean): void => {
    this.observer.called(this.method, this.key, joined ? 'joined' : 'led');
  };

  /** The upstream, which ObservableGroup subscribes only for the subscription that leads. */
  source(source: () => Observable<unknown>): () => Observable<unknown> {
    return () => {
      const { observer, method, key } = this;
      observer.flightStarted(method, key);
      const started = performance.now();
      let failed = false;
      let error: unknown;
      let upstream: Observable<unknown>;
      try {
        upstream = source();
      } catch (thrown) {
        observer.flightSettled(method, key, secondsSince(started), true, thrown, undefined);
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
        finalize(() =>
          observer.flightSettled(method, key, secondsSince(started), failed, error, undefined),
        ),
      );
    };
  }
}

/**
 * Watches one call of a `@MergeWrites()` method. WriteGroup tells the call, as it enters, whether
 * its run started at once (led), it became the follow-up run (queued) or it merged into that
 * follow-up (merged); a call it told none of these was refused. WriteGroup runs the newest waiting
 * call's function (once per try), so a call whose function never ran was served by a newer call's
 * run: coalesced.
 */
export class WriteProbe {
  #kind: 'led' | 'queued' | 'merged' | undefined = undefined;
  #tries = 0;
  #started = 0;

  constructor(
    private readonly observer: FlightObserver,
    private readonly method: string,
    private readonly key: string,
  ) {}

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
    const { observer, method, key } = this;
    const kind = this.#kind;
    if (kind === undefined) {
      outcome.then(undefined, (error: unknown) => observer.called(method, key, 'rejected', error));
      return outcome;
    }
    observer.called(method, key, kind);
    outcome.then(
      () => this.#settled(false, undefined),
      (error: unknown) => this.#settled(true, error),
    );
    return outcome;
  }

  #settled(failed: boolean, error: unknown): void {
    if (this.#tries === 0) this.observer.writeCoalesced(this.method, this.key);
    else
      this.observer.writeSettled(this.method, this.key, secondsSince(this.#started), failed, error);
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
