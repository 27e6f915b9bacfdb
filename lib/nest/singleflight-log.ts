import { Logger } from '@nestjs/common';

/**
 * The library's log in one app: Nest's `Logger` (context `Singleflight`) until the app has shut
 * down, then silent. Internal: the module's providers write through it.
 *
 * Nest's Logger is one per process: each app created replaces it, and every `Logger` instance
 * writes to the newest. A flight goes on after its callers left and after its app closed, so
 * what it reports when it settles (debug lines, a cache store's or Redis's warning) would land in
 * the logger of whatever app runs next. The app's end closes this log, and it stays closed.
 */
export class SingleflightLog {
  readonly #logger = new Logger('Singleflight');
  #open = true;

  log(message: string): void {
    if (this.#open) this.#logger.log(message);
  }

  debug(message: string): void {
    if (this.#open) this.#logger.debug(message);
  }

  warn(message: string): void {
    if (this.#open) this.#logger.warn(message);
  }

  /** Called by SingleflightModule once its engines have shut down: nothing of this app logs after. */
  close(): void {
    this.#open = false;
  }
}
