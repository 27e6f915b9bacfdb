import * as messages from '../redis.messages.js';
import { escapeGlob } from '../coordinator/coordinator.interface.js';
import type { WriteLedger } from './distributed-write-group.interfaces.js';
import { PEEK } from './write.scripts.js';
import { parsePeek } from './write.replies.js';
import type { WriteEngine } from './write-engine.js';
import type { KeyState } from './write-key-state.js';
import { type Carried, versionOf } from './write-version.js';

/** Keys logged for having no push here; a bound, so a flood of unknown keys cannot grow it. */
const MAX_UNKNOWN = 1_000;

/**
 * The periodic sweep (docs/redis-writes.md, "Sweep"): keys whose state in Redis has pending
 * writes (`ver > done`) and no runner are pushed here through RECOVER; then the ledger's pending
 * keys are queued through the protocol (an event), never pushed directly.
 */
export class WriteSweep {
  /** Keys already logged as having no push on this instance. */
  readonly #unknown = new Set<string>();
  #sweeping = false;

  constructor(private readonly engine: WriteEngine) {}

  async run(): Promise<void> {
    const { engine } = this;
    if (this.#sweeping || !engine.usable()) return;
    this.#sweeping = true;
    engine.counts.sweeps++;
    try {
      await this.#sweepRedis();
      const { ledger } = engine.settings;
      if (ledger !== undefined && engine.usable()) await this.#sweepLedger(ledger);
    } finally {
      this.#sweeping = false;
    }
  }

  async #sweepRedis(): Promise<void> {
    const { engine } = this;
    try {
      const pattern = `${escapeGlob(engine.settings.namespace)}:{*}:st`;
      for await (const name of engine.link.coordinator.scan(pattern, 100)) {
        if (!engine.usable()) return;
        const { ver, done, key } = parsePeek(await engine.eval(PEEK, [name], []));
        if (key === undefined || !(ver > done)) continue;
        const state = engine.keys.state(key);
        if (state.st !== name) {
          engine.keys.tidy(state);
        } else if (engine.handlers.runFor(state) === undefined) {
          this.#noRun(state);
        } else {
          await engine.pushes.recover(state);
        }
      }
    } catch (error) {
      engine.outage.failed(error);
    }
  }

  async #sweepLedger(ledger: WriteLedger): Promise<void> {
    const { engine } = this;
    try {
      for await (const item of ledger.pending()) {
        if (!engine.usable()) return;
        const key = typeof item === 'string' ? item : item.key;
        const args = typeof item === 'string' ? undefined : item.args;
        const state = engine.keys.state(key);
        let carried: Carried = { json: '', version: undefined };
        try {
          if (args !== undefined) {
            carried = {
              json: engine.args.encode(key, args),
              version: versionOf(key, state.version, args),
            };
          }
        } catch (error) {
          engine.log(messages.WRITE_LEDGER_FAILED('pending()'), error);
          engine.keys.tidy(state);
          continue;
        }
        // The store's arguments are the newest: they replace what Redis holds (by version if any).
        if (engine.handlers.runFor(state) === undefined) this.#noRun(state);
        else engine.events.nudge(state, carried, args !== undefined);
      }
    } catch (error) {
      engine.log(messages.WRITE_LEDGER_FAILED('pending()'), error);
    }
  }

  #noRun(state: KeyState): void {
    if (!this.#unknown.has(state.key)) {
      if (this.#unknown.size >= MAX_UNKNOWN) this.#unknown.clear();
      this.#unknown.add(state.key);
      this.engine.log(messages.WRITE_NO_RUN(state.key));
    }
    this.engine.keys.tidy(state);
  }
}
