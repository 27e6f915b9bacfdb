import { WriteGroup } from '../../core/write-group.js';
import type { CoordinationLog as Log } from '../shared/coordination-link.js';
import type { WriteLedger } from './distributed-write-group.interfaces.js';
import type { AnyRun } from './write-callers.js';
import type { WriteArgs } from './write-args.js';
import { localFence } from './write-fence.js';
import { localRunContext } from './local-run-context.js';
import { withLedger } from './write-ledger.js';
import { type Carried, supersedes } from './write-version.js';

/** An event Redis has not seen, and the push that goes with it. */
export interface Owed extends Carried {
  readonly run: AnyRun | undefined;
}

// Keys remembered for one outage; past that, the ledger's sweep is what pushes them again.
const MAX_OWED = 10_000;

/** Two in-process calls merged into one push: the newest arguments win (see supersedes). */
type Merged = [json: string, version: number | undefined];
const mergeNewest = (a: Merged, b: Merged): Merged =>
  supersedes({ json: a[0], version: a[1] }, { json: b[0], version: b[1] }) ? b : a;

/**
 * A DistributedWriteGroup's pushes while Redis is unreachable: this instance's own MergeWrites,
 * and the events Redis has not seen, owed to it until it answers again. Paying them back (one
 * event per key, once the key's in-process pushes have ended) makes the key's last push a fleet
 * push: after every in-process push, with a fence above theirs and the newest arguments.
 */
export class InProcessWrites {
  readonly #group: WriteGroup;
  readonly #owed = new Map<string, Owed>();
  /** Per key, the end of this instance's last in-process push, while one runs. */
  readonly #ends = new Map<string, Promise<void>>();

  constructor(
    detectAsyncReentry: boolean,
    private readonly args: WriteArgs,
    private readonly ledger: WriteLedger | undefined,
    private readonly log: Log,
  ) {
    this.#group = new WriteGroup({ detectAsyncReentry });
  }

  /**
   * Pushes `carried` with `run` in-process, after `after` (this instance's fleet push of the
   * key, if one runs, so the newer state lands last), and owes Redis the event.
   */
  run(key: string, carried: Carried, run: AnyRun, after: Promise<void> | undefined) {
    const pushed = withLedger(this.ledger, this.log, run);
    // The fence is taken when the push starts: the runs of one key take their fences in order.
    const push = () =>
      this.#group.do(
        key,
        (json: string, _version: number | undefined) =>
          pushed(this.args.decode(json), localRunContext(key, localFence())),
        { args: [carried.json, carried.version] as Merged, merge: mergeNewest },
      );
    const outcome = after === undefined ? push() : after.then(push);
    this.owe(key, carried, run);
    const ended = outcome.then(
      () => undefined,
      () => undefined,
    );
    this.#ends.set(key, ended);
    void ended.then(() => {
      if (this.#ends.get(key) === ended) this.#ends.delete(key);
    });
    return outcome;
  }

  /** The end of this instance's in-process pushes of `key`; undefined when none runs. */
  ended(key: string): Promise<void> | undefined {
    return this.#ends.get(key);
  }

  /** An event Redis has not seen (pushed in-process, or a re-queue that failed). */
  owe(key: string, carried: Carried, run: AnyRun | undefined): void {
    const owed = this.#owed.get(key);
    if (owed !== undefined ? supersedes(owed, carried) : this.#owed.size < MAX_OWED) {
      this.#owed.set(key, { json: carried.json, version: carried.version, run: run ?? owed?.run });
    }
  }

  get owing(): boolean {
    return this.#owed.size > 0;
  }

  /** Hands over what is owed, each once the key's in-process pushes have ended. */
  repay(send: (key: string, owed: Owed) => void): void {
    const owed = [...this.#owed];
    this.#owed.clear();
    for (const [key, entry] of owed) {
      void Promise.resolve(this.#ends.get(key)).then(() => send(key, entry));
    }
  }
}
