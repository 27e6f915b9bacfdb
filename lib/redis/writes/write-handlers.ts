import type { AnyRun } from './write-callers.js';
import type { KeyState } from './write-key-state.js';

/**
 * The pushes registered with `handle(prefix, run)`, for keys this instance never called itself
 * (taken over from a crashed instance, found by the sweep).
 */
export class WriteHandlers {
  readonly #byPrefix = new Map<string, AnyRun>();

  add(prefix: string, run: AnyRun): () => void {
    this.#byPrefix.set(prefix, run);
    return () => void this.#byPrefix.delete(prefix);
  }

  /**
   * The push of `state`'s key: the newest local call's, else the handler of the longest prefix
   * with `key === prefix` or `key.startsWith(prefix + ':')`.
   */
  runFor(state: KeyState): AnyRun | undefined {
    if (state.run !== undefined) return state.run;
    let best: string | undefined;
    for (const prefix of this.#byPrefix.keys()) {
      const matches = state.key === prefix || state.key.startsWith(`${prefix}:`);
      if (matches && (best === undefined || prefix.length > best.length)) best = prefix;
    }
    return best === undefined ? undefined : this.#byPrefix.get(best);
  }
}
