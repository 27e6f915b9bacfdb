import { MAX_TIMER_MS } from '../../core/options.validator.js';

/**
 * A key's one recovery timer: the crash watch over another instance's push, and the wait before
 * a retry. The earliest due time wins, so a short retry is not held back by a long lease
 * (docs/redis-writes.md, "Recovery"). Written by the write group's event, push and recovery paths;
 * `failures` counts this instance's failed pushes of the key since its last success.
 */
export class RecoveryTimer {
  #timer: NodeJS.Timeout | undefined = undefined;
  #due = 0;
  failures = 0;

  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Calls `fire` in `delayMs`, unless an earlier call is armed already. */
  schedule(delayMs: number, fire: () => void): void {
    const due = Date.now() + delayMs;
    if (this.#timer !== undefined && this.#due <= due) return;
    clearTimeout(this.#timer);
    this.#due = due;
    // A lease plus slack, or a backoff function's wait, can pass the longest timer: check then.
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        fire();
      },
      Math.min(delayMs, MAX_TIMER_MS),
    );
    this.#timer.unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
