import { HttpException, Inject, Injectable } from '@nestjs/common';
import { type Observable, isObservable, throwError } from 'rxjs';
import { FlightCache } from '../../cache/flight-cache.js';
import type { CachePolicy } from '../../cache/flight-cache.interfaces.js';
import { Group, type MethodFlights, methodFlights } from '../../core/group.js';
import { QuietSignals } from '../../core/quiet-signal.js';
import type { CallOptions } from '../../core/group.interfaces.js';
import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';
import { WriteGroup } from '../../core/write-group.js';
import { type DistributedFlight, MISS_SENTINEL } from '../../redis/flight/distributed-flight.js';
import type { DistributedWriteGroup } from '../../redis/writes/distributed-write-group.js';
import type { WriteRunContext } from '../../redis/writes/distributed-write-group.interfaces.js';
import { isRemoteError } from '../../redis/flight/remote-flight.error.js';
import { versionOf } from '../../redis/writes/write-version.js';
import { ObservableGroup, type ObservableGroupOptions } from '../../rx/observable-group.js';
import {
  type FlightMetadata,
  type ReturnKind,
  isThenable,
  keyPartOf,
} from '../decorators/flight-metadata.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import type { KeyContext } from '../decorators/key-context.js';
import { type OneInstance, checkInstance, oneInstance } from './one-instance.js';
import { checkCaching, checkWrites } from './method-options.check.js';
import { FlightProbe, SharedProbe, WriteProbe } from '../observe/flight-probe.js';
import type {
  MergeWritesOptions,
  SingleFlightOptions,
} from '../interfaces/flight-options.interface.js';
import type { SingleflightModuleOptions } from '../interfaces/singleflight-module-options.interface.js';
import type { RedisCoordination } from '../redis-coordination.js';
import { SingleflightLog } from '../singleflight-log.js';
import { FLIGHT_OBSERVER, OPTIONS, REDIS_COORDINATION } from '../singleflight.constants.js';

type Method = (...args: unknown[]) => unknown;

/** A decorated method's options merged with the module's defaults, worked out once per app. */
interface Prepared {
  returns: ReturnKind | 'sync';
  call: CallOptions | undefined;
  policy: CachePolicy | undefined;
  /** Answers a cached method's hits from the local mirror by key part; undefined: no mirror. */
  peek: ((part: string) => Promise<unknown> | undefined) | undefined;
  /** The method's flights in the app's Group, by key part (Promise methods). */
  flights: MethodFlights | undefined;
  /** The method's own `replay` (Observable methods); undefined: the app's ObservableGroup's. */
  shared: ObservableGroupOptions | undefined;
  writes: MergeWritesOptions | undefined;
  /** The fleet-wide engines this method uses (with `redis`, unless it opted out). */
  fleet: DistributedFlight | undefined;
  fleetWrites: DistributedWriteGroup | undefined;
  /** Whether fleetWrites knows how to push this method's keys (for recovery on this instance). */
  handled: boolean;
  /** The module's keyContext, unless the method opted out (`keyContext: false`). */
  context: KeyContext | undefined;
  /**
   * With the default key and no `shareAcrossRequests`: the one instance whose calls share
   * flights (set by its first call), else undefined. The explorer refuses a second registered
   * instance at start-up; this catches the ones it cannot see (ModuleRef.create).
   */
  only: OneInstance | undefined;
}

/**
 * Runs the calls of decorated methods through this app's engines. Internal: the decorators reach it
 * through a hidden property; users inject Group, WriteGroup, ObservableGroup or FlightCache.
 */
@Injectable()
export class FlightRunner {
  readonly #prepared = new Map<FlightMetadata, Prepared>();
  /** Metrics and debug logs; undefined when both are off, and then no call pays for them. */
  readonly #observer: FlightObserver | undefined;

  constructor(
    readonly group: Group,
    readonly writes: WriteGroup,
    readonly observables: ObservableGroup,
    @Inject(FlightCache) readonly cache: FlightCache | null,
    @Inject(OPTIONS) private readonly options: SingleflightModuleOptions,
    @Inject(FLIGHT_OBSERVER) observer: FlightObserver | null,
    @Inject(REDIS_COORDINATION) private readonly redis: RedisCoordination | null,
    private readonly log: SingleflightLog,
  ) {
    this.#observer = observer ?? undefined;
  }

  flight(meta: FlightMetadata, self: object, method: Method, args: unknown[]): unknown {
    const prepared = this.#preparedFor(meta);
    // A method found to be synchronous is passed through, so it needs no key.
    if (prepared.returns === 'sync') return method.apply(self, args);
    let part: string;
    try {
      if (prepared.only !== undefined) checkInstance(meta, prepared.only, self);
      part = keyPartOf(meta, self, args, prepared.context);
    } catch (error) {
      this.#observer?.called(meta.scope, undefined, 'rejected', error);
      return prepared.returns === 'observable' ? throwError(() => error) : Promise.reject(error);
    }
    // A hit is looked up by the key's part: the whole key is built only when it is needed.
    const hit = prepared.peek?.(part);
    if (hit !== undefined) {
      this.#observer?.called(meta.scope, `${meta.scope}:${part}`, 'cached');
      return hit;
    }
    if (prepared.returns === 'observable') {
      const key = `${meta.scope}:${part}`;
      const source = () => method.apply(self, args) as Observable<unknown>;
      return this.#share$(meta, prepared, key, source);
    }
    if (prepared.returns === 'unknown') {
      return this.#firstCall(meta, prepared, part, self, method, args);
    }
    return this.#do(meta, prepared, part, () => method.apply(self, args));
  }

  write(meta: FlightMetadata, self: object, method: Method, args: unknown[]): Promise<unknown> {
    const prepared = this.#preparedFor(meta);
    const version = prepared.writes!.version;
    // The method's version(...args) as the engines take it, of an argument list.
    const ofArgs = version && ((latest: unknown[]) => version(...latest));
    let key: string;
    try {
      if (prepared.only !== undefined) checkInstance(meta, prepared.only, self);
      key = `${meta.scope}:${keyPartOf(meta, self, args, prepared.context)}`;
      // A call whose version is no finite number is refused before it joins a run.
      if (ofArgs !== undefined) versionOf(key, ofArgs, args);
    } catch (error) {
      this.#observer?.called(meta.scope, undefined, 'rejected', error);
      return Promise.reject(error);
    }
    let run = (...latest: unknown[]) => method.apply(self, latest);
    // With `context: true` the method gets the run's WriteRunContext after its own arguments.
    const withContext = prepared.writes!.context === true;
    let merge = ofArgs ? newestByVersion(key, ofArgs) : prepared.writes!.merge;
    const probe = this.#observer && new WriteProbe(this.#observer, meta.scope, key);
    if (probe !== undefined) {
      run = probe.run(run);
      merge = probe.merge(merge);
    }
    const fleet = prepared.fleetWrites;
    // A fleet run calls with the newest arguments and the run's context.
    const fleetRun = (call: Method) => (latest: unknown[], context: WriteRunContext) =>
      Promise.resolve(withContext ? call(...latest, context) : call(...latest));
    if (fleet !== undefined && !prepared.handled) {
      // So that this instance can push the method's keys when it recovers them from Redis.
      fleet.handle(
        meta.scope,
        fleetRun((...latest) => method.apply(self, latest)),
      );
      prepared.handled = true;
    }
    let outcome: Promise<unknown>;
    if (fleet !== undefined) {
      outcome = fleet.do(key, args, fleetRun(run), ofArgs && { version: ofArgs });
    } else {
      const inProcess = withContext ? withLocalContext(key, run) : run;
      outcome = this.writes.do(key, inProcess, { args, merge, retry: prepared.writes!.retry });
    }
    return probe === undefined ? outcome : probe.called(outcome);
  }

  /**
   * Merges a method's options with the module's and checks what only the app can tell (caching
   * off, Observable methods). The explorer calls it for every decorated method at start-up.
   */
  prepare(meta: FlightMetadata): Prepared {
    const where = meta.scope;
    if (meta.decorator === 'MergeWrites') {
      if (meta.returns === 'observable') {
        throw new SingleflightOptionsError(messages.OBSERVABLE_WRITES(where));
      }
      const own = meta.options as MergeWritesOptions;
      const fleetWrites = own.distributed === false ? undefined : this.redis?.writes;
      if (fleetWrites !== undefined && own.merge !== undefined) {
        throw new SingleflightOptionsError(messages.DISTRIBUTED_MERGE(where));
      }
      checkWrites(where, own, fleetWrites !== undefined);
      return this.#remember(meta, {
        returns: meta.returns,
        call: undefined,
        policy: undefined,
        peek: undefined,
        flights: undefined,
        shared: undefined,
        writes: {
          merge: own.merge,
          version: own.version,
          retry: own.retry ?? this.options.retry,
          context: own.context,
        },
        fleet: undefined,
        fleetWrites,
        handled: false,
        context: own.keyContext === false ? undefined : this.options.keyContext,
        only: oneInstance(meta),
      });
    }
    const own = meta.options as SingleFlightOptions;
    const defaults = this.options;
    const ttl = own.ttl ?? (meta.returns === 'observable' ? undefined : defaults.ttl);
    const caching = ttl !== undefined && ttl !== 0;
    if (caching && meta.returns === 'observable') {
      throw new SingleflightOptionsError(messages.OBSERVABLE_TTL(where));
    }
    if (caching && this.cache === null) {
      throw new SingleflightOptionsError(messages.TTL_WITHOUT_CACHE(where));
    }
    if (own.replay !== undefined && meta.returns === 'promise') {
      throw new SingleflightOptionsError(messages.REPLAY_WITHOUT_OBSERVABLE(where));
    }
    const call = withoutUndefined({
      timeout: own.timeout ?? defaults.timeout,
      forgetAfter: own.forgetAfter ?? defaults.forgetAfter,
      shareErrors: own.shareErrors ?? defaults.shareErrors,
    });
    const policy: CachePolicy | undefined = caching
      ? {
          ttl,
          refreshThreshold: own.refreshThreshold ?? defaults.refreshThreshold,
          shouldCache: own.shouldCache,
        }
      : undefined;
    checkCaching(where, own, policy);
    return this.#remember(meta, {
      returns: meta.returns,
      call,
      policy,
      peek: caching ? this.cache?.peekerOf(meta.scope) : undefined,
      flights: meta.returns === 'observable' ? undefined : methodFlights(this.group, meta.scope),
      shared: own.replay === undefined ? undefined : { replay: own.replay },
      writes: undefined,
      // An Observable cannot travel between instances: those stay in-process.
      fleet:
        own.distributed === false || meta.returns === 'observable'
          ? undefined
          : this.redis?.flights,
      fleetWrites: undefined,
      handled: false,
      context: own.keyContext === false ? undefined : defaults.keyContext,
      only: oneInstance(meta),
    });
  }

  /**
   * The work of a flight shared with the other instances: the in-process flight wraps it, so Redis
   * sees one flight per instance. A leader re-reads the cache first (another instance may have
   * just stored the value); an HTTP error from another instance is thrown here as an HttpException.
   */
  #acrossInstances(
    fleet: DistributedFlight,
    key: string,
    run: () => unknown,
    policy: CachePolicy | undefined,
  ): () => Promise<unknown> {
    const cache = policy === undefined ? null : this.cache;
    const recheck =
      cache === null
        ? undefined
        : async () => {
            const stored = await cache.stored(key);
            return stored === undefined ? MISS_SENTINEL : stored;
          };
    return () =>
      fleet
        .run(key, async () => run(), recheck)
        .catch((error: unknown) => {
          // Only a real HttpException keeps its status and body across instances; any other
          // error reaches Nest's filter as the RemoteFlightError, which carries the fields the
          // filter reads, so every instance answers as the leader's did.
          if (isRemoteError(error) && error.httpException === true) {
            // `errorCode` is an option of Nest 12's HttpException; Nest 11 ignores it.
            const options = { cause: error, errorCode: error.errorCode };
            throw new HttpException(error.response as string | object, error.status!, options);
          }
          throw error;
        });
  }

  /**
   * Starts or joins the flight of `${meta.scope}:${part}`, through the cache when a ttl applies and
   * across instances with Redis: the one place Promise flights start. With an observer, probes
   * watch the call; without, it adds nothing. The whole key is built only for those that need it.
   */
  #do(
    meta: FlightMetadata,
    prepared: Prepared,
    part: string,
    run: () => unknown,
  ): Promise<unknown> {
    const { policy, fleet, call } = prepared;
    const flights = prepared.flights!;
    if (policy === undefined && fleet === undefined && this.#observer === undefined) {
      return flights.do(part, run, call);
    }
    const key = `${meta.scope}:${part}`;
    const cache = policy === undefined ? null : this.cache;
    const probe =
      this.#observer && new FlightProbe(this.#observer, meta.scope, key, cache !== null);
    let work = fleet === undefined ? run : this.#acrossInstances(fleet, key, run, policy);
    if (probe !== undefined) work = probe.work(work);
    const fn = cache === null ? work : () => cache.load(key, work, policy!);
    const outcome = flights.do(part, probe === undefined ? fn : probe.flight(fn), call);
    return probe === undefined ? outcome : probe.called(outcome, call);
  }

  /** The shared Observable flight of `key`; with an observer, probes watch each subscription. */
  #share$(
    meta: FlightMetadata,
    { shared }: Prepared,
    key: string,
    source: () => Observable<unknown>,
  ): Observable<unknown> {
    const probe = this.#observer && new SharedProbe(this.#observer, meta.scope, key);
    if (probe === undefined) return this.observables.share$(key, source, shared);
    return probe.calls(this.observables.share$(key, probe.source(source), shared));
  }

  /** This app's options for a method; the last app's are kept on the metadata, found at once. */
  #preparedFor(meta: FlightMetadata): Prepared {
    if (meta.runner === this) return meta.prepared as Prepared;
    const prepared = this.#prepared.get(meta) ?? this.prepare(meta);
    meta.runner = this;
    meta.prepared = prepared;
    return prepared;
  }

  #remember(meta: FlightMetadata, prepared: Prepared): Prepared {
    this.#prepared.set(meta, prepared);
    return prepared;
  }

  /**
   * A method whose return type was not annotated: its first call shows what it returns, and later
   * calls take the right path at once.
   */
  #firstCall(
    meta: FlightMetadata,
    prepared: Prepared,
    part: string,
    self: object,
    method: Method,
    args: unknown[],
  ): unknown {
    let result: unknown;
    let ran = false;
    let thrown: { error: unknown } | undefined;
    // Neither cached nor shared across instances: what it returns is not known yet.
    const outcome = this.#do(
      meta,
      { ...prepared, policy: undefined, fleet: undefined },
      part,
      () => {
        ran = true;
        try {
          return (result = method.apply(self, args));
        } catch (error) {
          thrown = { error };
          throw error;
        }
      },
    );
    if (!ran) return outcome;
    if (thrown !== undefined) {
      // It threw before returning anything, so what it returns is still unknown: a later call
      // decides. This caller gets the error as the method threw it.
      void outcome.catch(() => undefined);
      throw thrown.error;
    }
    if (isObservable(result)) {
      prepared.returns = 'observable';
      prepared.policy = undefined;
      prepared.peek = undefined;
      void outcome.catch(() => undefined);
      const source = result;
      return this.observables.share$(`${meta.scope}:${part}`, () => source, prepared.shared);
    }
    if (isThenable(result)) {
      prepared.returns = 'promise';
      // This call was not cached; the calls after it are, when a ttl applies.
      return outcome;
    }
    prepared.returns = 'sync';
    this.log.warn(messages.SYNC_RESULT(meta.scope));
    void outcome.catch(() => undefined);
    return result;
  }
}

/** Local runs are never taken away, so their signals never abort; made once per many runs. */
const localSignals = new QuietSignals();

/**
 * A run's context without Redis: fence 0 (runs of one instance never overlap, so there is nothing
 * to fence) and a signal that never aborts.
 */
function withLocalContext(key: string, run: Method): Method {
  return (...latest) => run(...latest, { key, fence: 0, signal: localSignals.next() });
}

/**
 * `version` among the calls that wait for one run in this process: the arguments with the highest
 * version win (the later call on a tie), as they do in Redis.
 */
function newestByVersion(key: string, version: (args: unknown[]) => number) {
  return (pending: unknown[], next: unknown[]): unknown[] =>
    versionOf(key, version, next)! >= versionOf(key, version, pending)! ? next : pending;
}

function withoutUndefined<T extends object>(options: T): T | undefined {
  const entries = Object.entries(options).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as T);
}
