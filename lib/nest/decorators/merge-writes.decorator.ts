import { BOOLEAN, FUNCTION, validateOptions } from '../../core/options.validator.js';
import { RETRY } from '../../core/write-group.js';
import type { MergeWritesOptions } from '../interfaces/flight-options.interface.js';
import { SCOPE } from './flight-scope.js';
import { decorateMethod } from './decorate-method.js';
import { type KeyedMethodDecorator, splitArguments } from './single-flight.decorator.js';

const MERGE_WRITES_RULES = {
  merge: FUNCTION,
  version: FUNCTION,
  retry: RETRY,
  distributed: BOOLEAN,
  context: BOOLEAN,
  keyContext: BOOLEAN,
  scope: SCOPE,
  shareAcrossRequests: BOOLEAN,
} as const;

/**
 * A burst of calls with the same key causes at most one run in flight and one follow-up run, and
 * the last run always carries the newest call (its arguments, or `merge` of the waiting calls').
 * Every caller settles with the first run that started after it called.
 *
 * The key works as in `@SingleFlight()`; for `push(id, state)` give one that leaves the state out:
 * `@MergeWrites((id: string) => id)`. With `forRoot({ redis })` the runs are coordinated across
 * instances; `context: true` passes the run's `{ key, fence, signal }` after the arguments.
 *
 * ```ts
 * @MergeWrites((id: string) => id)
 * async push(id: string, state: State): Promise<void> {
 *   await this.downstream.put(id, state); // never two at once for one id; the newest state last
 * }
 * ```
 * @publicApi
 */
export function MergeWrites(options?: MergeWritesOptions): MethodDecorator;
export function MergeWrites(key: string, options?: MergeWritesOptions): MethodDecorator;
export function MergeWrites<A extends unknown[]>(
  key: (...args: A) => string,
  options?: MergeWritesOptions<any[]>,
): KeyedMethodDecorator<A>;
export function MergeWrites(
  keyOrOptions?: string | ((...args: any[]) => string) | MergeWritesOptions,
  options?: MergeWritesOptions,
): MethodDecorator {
  const [key, opts] = splitArguments<MergeWritesOptions>('MergeWrites', keyOrOptions, options);
  validateOptions('@MergeWrites() options', opts, MERGE_WRITES_RULES);
  return decorateMethod('MergeWrites', key, opts, (runner, meta, self, method, args) =>
    runner.write(meta, self, method, args),
  );
}
