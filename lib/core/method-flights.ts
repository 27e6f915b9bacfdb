import type { CallOptions, Work } from './group.interfaces.js';

/**
 * The flights of one decorated method in a Group: `do(part)` is `group.do(`${scope}:${part}`)`
 * without building that key. Made by `methodFlights(group, scope)`; internal to the package.
 */
export interface MethodFlights {
  do<T>(part: string, fn: Work<T>, options?: CallOptions): Promise<T>;
  /**
   * `do`, telling `entered` before it returns whether the call joined a flight in progress
   * (true) or started one (false). A call refused before either (a re-entry) is not told.
   */
  doEntered<T>(
    part: string,
    fn: Work<T>,
    options: CallOptions | undefined,
    entered: (joined: boolean) => void,
  ): Promise<T>;
}
