import { Inject, Injectable } from '@nestjs/common';
import { throwError } from 'rxjs';
import { FlightCache } from '../../cache/flight-cache.js';
import { SingleflightOptionsError } from '../../core/singleflight.errors.js';
import { Group } from '../../core/group.js';
import { WriteGroup } from '../../core/write-group.js';
import { ObservableGroup } from '../../rx/observable-group.js';
import type { FlightMetadata } from '../decorators/flight-metadata.js';
import type { SingleflightModuleOptions } from '../interfaces/singleflight-module-options.interface.js';
import * as messages from '../nest.messages.js';
import type { FlightObserver } from '../observe/flight-observer.js';
import type { RedisCoordination } from '../redis-coordination.js';
import { SingleflightLog } from '../singleflight-log.js';
import { FLIGHT_OBSERVER, OPTIONS, REDIS_COORDINATION } from '../singleflight.constants.js';
import { type AppEngines, chooseStrategy } from './choose-strategy.js';
import type { Method, MethodStrategy } from './method-strategy.js';

/**
 * Runs the calls of decorated methods through this app's engines, each method through the
 * strategy chosen for it at start-up (see chooseStrategy). Internal: the decorators reach it
 * through a hidden property; users inject Group, WriteGroup, ObservableGroup or FlightCache.
 */
@Injectable()
export class FlightRunner implements AppEngines {
  readonly #strategies = new Map<FlightMetadata, MethodStrategy>();
  /** The method of each scope, the first one prepared: no other method may take its flights. */
  readonly #scopes = new Map<string, FlightMetadata>();
  readonly observer: FlightObserver | undefined;

  constructor(
    readonly group: Group,
    readonly writes: WriteGroup,
    readonly observables: ObservableGroup,
    @Inject(FlightCache) readonly cache: FlightCache | null,
    @Inject(OPTIONS) readonly options: SingleflightModuleOptions,
    @Inject(FLIGHT_OBSERVER) observer: FlightObserver | null,
    @Inject(REDIS_COORDINATION) readonly redis: RedisCoordination | null,
    private readonly log: SingleflightLog,
  ) {
    this.observer = observer ?? undefined;
  }

  /** A call of a decorated method, through its strategy in this app. */
  call(meta: FlightMetadata, self: object, method: Method, args: unknown[]): unknown {
    // The last app that called the method keeps its strategy on the metadata: found at once.
    const strategy =
      meta.runner === this ? (meta.strategy as MethodStrategy) : this.#strategyOf(meta);
    return strategy.call(self, method, args);
  }

  /**
   * Chooses a method's strategy in this app, or throws what is wrong with its options. The
   * explorer calls it for every decorated method at start-up.
   */
  prepare(meta: FlightMetadata): MethodStrategy {
    let strategy = this.#strategies.get(meta);
    if (strategy === undefined) {
      strategy = chooseStrategy(meta, this);
      this.#strategies.set(meta, strategy);
      // The explorer names both methods of a scope taken twice at start-up; a later one is refused.
      if (!this.#scopes.has(meta.scope)) this.#scopes.set(meta.scope, meta);
    }
    return strategy;
  }

  replace(meta: FlightMetadata, strategy: MethodStrategy): void {
    this.#strategies.set(meta, strategy);
    if (meta.runner === this) meta.strategy = strategy;
  }

  warnSync(meta: FlightMetadata): void {
    this.log.warn(messages.SYNC_RESULT(meta.scope));
  }

  #strategyOf(meta: FlightMetadata): MethodStrategy {
    const owner = this.#scopes.get(meta.scope);
    const strategy =
      owner === undefined || owner === meta ? this.prepare(meta) : this.#refused(meta);
    meta.runner = this;
    meta.strategy = strategy;
    return strategy;
  }

  /**
   * A method of a class the explorer did not see (ModuleRef.create(), a lazy-loaded module) whose
   * scope another method holds: every call fails, so neither gets the other's results.
   */
  #refused(meta: FlightMetadata): MethodStrategy {
    let strategy = this.#strategies.get(meta);
    if (strategy === undefined) {
      const error = new SingleflightOptionsError(messages.SCOPE_TAKEN_LATER(meta.scope));
      strategy = {
        call: () =>
          meta.returns === 'observable' ? throwError(() => error) : Promise.reject(error),
      };
      this.#strategies.set(meta, strategy);
    }
    return strategy;
  }
}
