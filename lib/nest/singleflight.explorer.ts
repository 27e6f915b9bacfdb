import { Inject, Injectable, type OnModuleInit, Scope } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { SingleflightOptionsError } from '../core/singleflight.errors.js';
import * as messages from './nest.messages.js';
import { FlightRunner } from './runner/flight-runner.js';
import type { FlightMetadata } from './decorators/flight-metadata.js';
import { checkScopes, type ScopeUse } from './decorators/flight-scope.js';
import { FLIGHT_METADATA, OPTIONS } from './singleflight.constants.js';
import { FlightCache } from '../cache/flight-cache.js';
import { CALL_KEY } from '../cache/method-call.js';
import type { SingleflightModuleOptions } from './interfaces/singleflight-module-options.interface.js';
import { MethodKeys } from './method-keys.js';
import { MODULE_CALL } from './module-call.js';

/**
 * Checks every decorated method of the app's providers and controllers at start-up, so misuse
 * fails the boot instead of the first call. It only validates; the decorators do the wrapping.
 * What it decides here, once per method, holds for every call: no two methods share a scope, and
 * no method of a request-scoped (or transient) provider shares flights between its instances by
 * default. It also gives the app's FlightCache the instances its typed `invalidate()` calls key
 * functions with (see MethodKeys).
 */
@Injectable()
export class SingleflightExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly runner: FlightRunner,
    @Inject(FlightCache) private readonly cache: FlightCache | null,
    @Inject(OPTIONS) private readonly options: SingleflightModuleOptions,
    private readonly modules: ModulesContainer,
  ) {}

  onModuleInit(): void {
    this.#checkImportedOnce();
    const decorated = new Map<object, [name: string, meta: FlightMetadata][]>();
    const scopes: [string, ScopeUse][] = [];
    /** The first registration of each class with one instance for the app (a singleton). */
    const singletons = new Map<object, InstanceWrapper>();
    const keys = new MethodKeys(this.options);
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const prototype: unknown = wrapper.metatype?.prototype;
      if (!prototype || typeof prototype !== 'object' || wrapper.isAlias) continue;
      let methods = decorated.get(prototype);
      if (methods === undefined) {
        decorated.set(prototype, (methods = this.#decoratedMethods(prototype)));
        for (const [, meta] of methods) this.runner.prepare(meta);
      }
      if (methods.length === 0) continue;
      // Every registration of a class is checked: one of them may be request-scoped.
      const className = wrapper.metatype!.name;
      let kind = perInstance(wrapper);
      if (kind === undefined) {
        const first = singletons.get(prototype);
        if (first === undefined) singletons.set(prototype, wrapper);
        else kind = provided(first, wrapper);
      }
      keys.add(prototype, kind === undefined ? (wrapper.instance as object) : null);
      for (const [name, meta] of methods) {
        if (kind !== undefined) checkPerInstance(meta, className, kind);
        const where = `${className}.${name} ${whereIs(wrapper)}`;
        scopes.push([meta.scope, { meta, owner: prototype, where }]);
      }
    }
    checkScopes(scopes);
    if (this.cache !== null) this.cache[CALL_KEY] = keys.keyOf;
  }

  /**
   * One SingleflightModule per app: each forRoot() or forRootAsync() call is a module of its own,
   * so a second import gives a second set of engines and caches, and which one a provider gets
   * depends on where it is declared (a FlightCache could then not drop what a method cached).
   */
  #checkImportedOnce(): void {
    const count = this.discovery.getProviders().filter((w) => w.token === FlightRunner).length;
    if (count < 2) return;
    const importers = [...this.modules.values()]
      .filter((module) => importsThisModule(module.metatype))
      .map((module) => module.metatype.name);
    throw new SingleflightOptionsError(messages.IMPORTED_TWICE(count, importers.join(', ')));
  }

  #decoratedMethods(prototype: object): [string, FlightMetadata][] {
    const methods: [string, FlightMetadata][] = [];
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const method: unknown = (prototype as Record<string, unknown>)[name];
      if (typeof method !== 'function') continue;
      const meta = Reflect.getMetadata(FLIGHT_METADATA, method) as FlightMetadata | undefined;
      if (meta !== undefined) methods.push([name, meta]);
    }
    return methods;
  }
}

/** Whether a module's `@Module()` imports hold a SingleflightModule.forRoot() or forRootAsync(). */
function importsThisModule(metatype: unknown): boolean {
  const imports: unknown = metatype && Reflect.getMetadata('imports', metatype);
  return Array.isArray(imports) && imports.some(isThisModule);
}

/** A DynamicModule made by forRoot() or forRootAsync(): the one that names its call. */
function isThisModule(entry: unknown): boolean {
  const providers = (entry as { providers?: unknown } | null)?.providers;
  return (
    Array.isArray(providers) &&
    providers.some((p: unknown) => (p as { provide?: unknown } | null)?.provide === MODULE_CALL)
  );
}

/** Which registration of a class, for messages: its token when that is not the class, and module. */
function whereIs(wrapper: InstanceWrapper): string {
  const module = `in ${wrapper.host?.metatype?.name ?? 'the app'}`;
  const token: unknown = wrapper.token;
  return token === wrapper.metatype ? module : `provided as ${String(token)} ${module}`;
}

/**
 * What makes a provider have instances whose `this` differ, or undefined when it has one instance:
 * an instance per request (a tree that is not static: Scope.REQUEST, durable, or a request-scoped
 * dependency such as REQUEST), or per class that injects it (transient).
 */
function perInstance(wrapper: InstanceWrapper): string | undefined {
  if (!wrapper.isDependencyTreeStatic()) {
    if (wrapper.scope !== Scope.REQUEST) {
      return 'request-scoped (through what it injects: REQUEST, or a provider that is request-scoped)';
    }
    return `request-scoped (${wrapper.durable === true ? 'durable' : 'Scope.REQUEST'})`;
  }
  if (wrapper.isTransient) {
    return 'transient (Scope.TRANSIENT: each class that injects it gets an instance of its own)';
  }
  return undefined;
}

/**
 * A class registered twice (by two modules, as a dynamic module's provider often is, or under two
 * tokens) has two instances, and each may hold its own settings (a region, a base URL).
 */
function provided(first: InstanceWrapper, second: InstanceWrapper): string {
  return (
    `provided twice (${whereIs(first)}, and ${whereIs(second)}), so each registration has an ` +
    'instance of its own, which may hold its own settings'
  );
}

/**
 * An instance per request can read the request (its user, tenant, headers) from `this`, and a
 * transient one holds what the class that injected it set. The default key holds only the
 * arguments, so calls through two instances would share a flight and one user could get
 * another's result; an explicit key or `shareAcrossRequests` is the method's word that the key
 * holds everything the result depends on.
 */
function checkPerInstance(meta: FlightMetadata, className: string, kind: string): void {
  if (meta.keySource !== undefined || meta.options.shareAcrossRequests === true) return;
  throw new SingleflightOptionsError(
    messages.PER_INSTANCE_DEFAULT_KEY(meta.decorator, meta.scope, className, kind),
  );
}
