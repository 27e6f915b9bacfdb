/** A promise with its resolve and reject exposed, to settle work at an exact point of a test. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: Deferred<T>['resolve'];
  let reject!: Deferred<T>['reject'];
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise reaction (and the ones they queue, a few levels deep) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export type Settlement<T> =
  | { status: 'pending' }
  | { status: 'fulfilled'; value: T }
  | { status: 'rejected'; reason: unknown };

/** Watches a promise without awaiting it, so a test can ask "settled yet?" at any point. */
export function track<T>(promise: Promise<T>): { readonly state: Settlement<T> } {
  const tracked: { state: Settlement<T> } = { state: { status: 'pending' } };
  promise.then(
    (value) => (tracked.state = { status: 'fulfilled', value }),
    (reason: unknown) => (tracked.state = { status: 'rejected', reason }),
  );
  return tracked;
}

/** The rejection reason of a promise that must reject (fails the test if it fulfils). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (reason) {
    return reason;
  }
  throw new Error('expected the promise to reject, but it fulfilled');
}

/** Work that records the AbortSignal it was given and waits for the test to settle it. */
export function controlledWork<T>() {
  const gate = deferred<T>();
  const signals: AbortSignal[] = [];
  const work = (signal: AbortSignal) => {
    signals.push(signal);
    return gate.promise;
  };
  return {
    gate,
    signals,
    work,
    get runs() {
      return signals.length;
    },
  };
}
