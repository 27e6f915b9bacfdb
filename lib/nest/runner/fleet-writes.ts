import type { DistributedWriteGroup } from '../../redis/writes/distributed-write-group.js';
import type { WriteRunContext } from '../../redis/writes/distributed-write-group.interfaces.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import { type Entered, MergedWrites, type VersionOf } from './merged-writes.js';
import type { Method, CallKeys } from './method-strategy.js';

/** A `@MergeWrites()` method whose runs are coordinated across the fleet through Redis. */
export class FleetWrites extends MergedWrites {
  /** Whether the fleet engine can push this method's keys on its own (see `call`). */
  #handled = false;

  constructor(
    keys: CallKeys,
    version: VersionOf | undefined,
    withContext: boolean,
    observer: FlightObserver | undefined,
    private readonly fleet: DistributedWriteGroup,
  ) {
    super(keys, version, withContext, observer);
  }

  override call(self: object, method: Method, args: unknown[]): Promise<unknown> {
    if (!this.#handled) {
      // The first call gives the instance whose method pushes the keys this instance recovers
      // from Redis (runs that another instance left unfinished).
      this.fleet.handle(
        this.keys.meta.scope,
        this.#fleetRun((...latest) => method.apply(self, latest)),
      );
      this.#handled = true;
    }
    return super.call(self, method, args);
  }

  protected push(key: string, args: unknown[], run: Method, entered?: Entered): Promise<unknown> {
    // Redis decides whether this call runs or waits after it returned: it is told as waiting.
    entered?.('queued');
    const version = this.version;
    return this.fleet.do(key, this.#fleetRun(run), { args, version });
  }

  /** A fleet run calls with the newest arguments, and the run's context when the method asks. */
  #fleetRun(call: Method) {
    return (latest: unknown[], context: WriteRunContext) =>
      Promise.resolve(this.withContext ? call(...latest, context) : call(...latest));
  }
}
