import type { Observable } from 'rxjs';

/**
 * Compile-time checks of `@SingleFlight()` and `@MergeWrites()` against the method they decorate.
 * A decorator factory is typed before TypeScript sees the method, so what the options say about
 * the method (a key function's parameters, the value a `ttl` function reads, the arguments
 * `merge` folds) is inferred from their annotations and checked in the decorator it returns,
 * where the method is known. A check that fails turns the descriptor's type into one with a
 * `DecoratorMistake` property: TypeScript reports TS1241 ("Unable to resolve signature of method
 * decorator") followed by that property's name, which says what is wrong.
 */

/**
 * What a check that fails asks of the descriptor: a property no descriptor has, whose name is the
 * message, so the compiler's error text shows it.
 */
export type DecoratorMistake<Message extends string> = { readonly [K in Message]: never };

/** The value a method's callers get: a Promise's value, an Observable's elements, or its result. */
export type FlightValue<M> = M extends (...args: any[]) => infer R
  ? R extends Observable<infer E>
    ? E
    : Awaited<R>
  : never;

/**
 * The arguments callers pass: the method's parameters, without the `WriteRunContext` that
 * `@MergeWrites({ context: true })` passes after them.
 */
export type CallArgs<M extends (...args: any[]) => any, C = false> = C extends true
  ? Parameters<M> extends [...infer Own, unknown]
    ? Own
    : Parameters<M>
  : Parameters<M>;

/** A key function fits when it takes the callers' arguments: no more parameters, no other types. */
export type KeyFits<A extends unknown[], Args extends unknown[]> = [
  (...args: A) => string,
] extends [(...args: Args) => string]
  ? unknown
  : DecoratorMistake<"the key function's parameters do not match the method's: more parameters than the method has, or other types">;

/** `ttl` and `shouldCache` fit when they take every value the method gives (T unknown: unread). */
export type ValueFits<T, M> = [FlightValue<M>] extends [T]
  ? unknown
  : DecoratorMistake<"ttl or shouldCache takes another type than the method's value (what its Promise resolves to, or its Observable emits)">;

/**
 * `merge` fits when it takes and returns the callers' arguments, `version` when it takes them.
 * Unannotated (W unknown[]), they can read nothing without a check of their own.
 */
export type ArgsFit<W extends unknown[], Args extends unknown[]> = unknown[] extends W
  ? unknown
  : [(pending: W, next: W) => W] extends [(pending: Args, next: Args) => Args]
    ? unknown
    : DecoratorMistake<"merge or version takes other parameters than the method's (a tuple of its parameters, in order)">;

/**
 * What `@SingleFlight()` returns: a method decorator that accepts only methods whose parameters
 * the key function takes (no more of them, of the same types) and whose value the `ttl` and
 * `shouldCache` functions take, so a wrong key function or option is a compile error.
 *
 * ```ts
 * @SingleFlight((id: string) => id)
 * async user(id: string) {}          // compiles
 * @SingleFlight((id: number) => `${id}`)
 * async user(id: string) {}          // does not: number is not string
 * ```
 * @publicApi
 */
export type KeyedMethodDecorator<A extends unknown[] = any[], T = unknown> = <
  M extends (...args: any[]) => any,
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M> & KeyFits<A, Parameters<M>> & ValueFits<T, M>,
) => void;

/**
 * What `@MergeWrites()` returns: a method decorator that accepts only methods whose parameters
 * the key function takes and whose arguments `merge` and `version` take (W, inferred from their
 * annotations); with `context: true` (C), the method's last parameter is the run's context.
 * @publicApi
 */
export type MergeWritesDecorator<
  A extends unknown[] = any[],
  W extends unknown[] = unknown[],
  C extends boolean = false,
> = <M extends (...args: any[]) => any>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M> & KeyFits<A, CallArgs<M, C>> & ArgsFit<W, CallArgs<M, C>>,
) => void;
