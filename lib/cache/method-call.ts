/**
 * A call of a class's method named by the class, the method and the arguments, as the typed form
 * of `FlightCache.invalidate` takes it. The cache knows nothing of decorators: the module that
 * decorates methods gives the FlightCache it provides a `CallKey` that builds the call's key.
 */

/** A class, abstract ones included, whose instances are T. */
export type ClassOf<T> = abstract new (...args: any[]) => T;

/**
 * The names of T's methods that return a Promise: the ones whose values a decorated method can
 * cache. A name that is not one of them does not compile.
 */
export type CachedMethodName<T> = {
  [K in keyof T]-?: K extends string
    ? T[K] extends (...args: any[]) => PromiseLike<unknown>
      ? K
      : never
    : never;
}[keyof T];

/** The parameters of T's method K: the arguments of the call whose key is built. */
export type MethodArgs<T, K extends keyof T> = T[K] extends (...args: infer A) => any ? A : never;

/** Builds the whole key of `type.prototype[method](...args)`, or throws a named error. */
export type CallKey = (type: ClassOf<object>, method: string, args: unknown[]) => string;

/** The FlightCache's CallKey, set by the module that provides it; not exported by the package. */
export const CALL_KEY = Symbol('FlightCache.callKey');
