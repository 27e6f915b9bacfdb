import { BOOLEAN, FUNCTION, validateOptions } from '../../core/options.validator.js';
import { RETRY } from '../../core/write-group.js';
import type { MergeWritesOptions } from '../interfaces/flight-options.interface.js';
import { SCOPE } from './flight-scope.js';
import { decorateMethod } from './decorate-method.js';
import { splitArguments } from './single-flight.decorator.js';
import type { MergeWritesDecorator } from './decorator-types.js';

export type { MergeWritesDecorator } from './decorator-types.js';

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
export function MergeWrites(options?: MergeWritesOptions<unknown[]>): MethodDecorator;
export function MergeWrites<W extends unknown[], C extends boolean = false>(
  options: MergeWritesOptions<W> & { context?: C },
): MergeWritesDecorator<any[], W, C>;
export function MergeWrites(key: string, options?: MergeWritesOptions<unknown[]>): MethodDecorator;
export function MergeWrites<W extends unknown[], C extends boolean = false>(
  key: string,
  options: MergeWritesOptions<W> & { context?: C },
): MergeWritesDecorator<any[], W, C>;
export function MergeWrites<
  A extends unknown[],
  W extends unknown[] = unknown[],
  C extends boolean = false,
>(
  key: (...args: A) => string,
  options?: MergeWritesOptions<W> & { context?: C },
): MergeWritesDecorator<A, W, C>;
export function MergeWrites(
  keyOrOptions?: string | ((...args: any[]) => string) | MergeWritesOptions,
  options?: MergeWritesOptions,
): MethodDecorator {
  const [key, opts] = splitArguments<MergeWritesOptions>('MergeWrites', keyOrOptions, options);
  validateOptions('@MergeWrites() options', opts, MERGE_WRITES_RULES);
  return decorateMethod('MergeWrites', key, opts);
}
