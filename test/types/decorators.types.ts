/**
 * Compile-time tests of `@SingleFlight()` and `@MergeWrites()`: checked by `npm run typecheck`
 * (tsconfig.json includes test/), never run. Each `@ts-expect-error` line is a mistake that must
 * not compile (the comment above it says which); a line whose mistake compiled would fail the
 * type-check as an unused directive. Everything else must compile as it is.
 */
import { applyDecorators } from '@nestjs/common';
import { type Observable, of } from 'rxjs';
import {
  MergeWrites,
  SingleFlight,
  type WriteRunContext,
  type MergeWritesOptions,
} from '../../lib/index.js';

interface Token {
  value: string;
  expiresInMs: number;
}
interface State {
  version: number;
}
const token: Token = { value: 't', expiresInMs: 60_000 };

/** What must compile. */
export class Compiles {
  private readonly prefix = 'p';

  @SingleFlight()
  async byDefault(region: string, business: string): Promise<Token> {
    return { ...token, value: region + business };
  }

  @SingleFlight('config')
  async config(): Promise<Token> {
    return token;
  }

  // A key function with fewer parameters than the method.
  @SingleFlight((region: string) => region)
  async fewer(region: string, business: string): Promise<Token> {
    return { ...token, value: region + business };
  }

  // The same number, and a wider parameter type than the method's.
  @SingleFlight((region: string, business: string | number) => `${region}/${business}`)
  async same(region: string, business: string): Promise<Token> {
    return { ...token, value: region + business };
  }

  // Optional parameters, of the method and of the key function.
  @SingleFlight((region: string, business?: string) => `${region}/${business ?? ''}`)
  async optional(region: string, business?: string): Promise<Token> {
    return { ...token, value: region + (business ?? '') };
  }

  // A key function typed with the class's `this`.
  @SingleFlight(function (this: Compiles, id: string) {
    return `${this.prefix}:${id}`;
  })
  async withThis(id: string): Promise<Token> {
    return { ...token, value: id };
  }

  // ttl and shouldCache annotated with the method's value type, or a wider one.
  @SingleFlight((region: string) => region, {
    ttl: (t: Token) => t.expiresInMs - 1_000,
    shouldCache: (t: Token | undefined) => t !== undefined,
  })
  async cached(region: string): Promise<Token> {
    return { ...token, value: region };
  }

  @SingleFlight({ ttl: (t: Token) => t.expiresInMs, shouldCache: (t) => t !== null })
  async cachedByDefault(region: string): Promise<Token> {
    return { ...token, value: region };
  }

  @SingleFlight('one', { ttl: (t: Token) => t.expiresInMs })
  async cachedOne(): Promise<Token> {
    return token;
  }

  // Unannotated, the value is `unknown`: a function that reads no property compiles.
  @SingleFlight({ ttl: 1_000, shouldCache: (value) => value !== null })
  async unannotated(id: string): Promise<Token | null> {
    return id === '' ? null : token;
  }

  // An Observable method: the value is its element type.
  @SingleFlight((id: string) => id, { shouldCache: (t: Token) => t.expiresInMs > 0 })
  stream(id: string): Observable<Token> {
    return of({ ...token, value: id });
  }

  // A method that returns a plain value (passed through at run time), with options of its type.
  @SingleFlight((id: string) => id, { shouldCache: (n: number) => n > 0 })
  plain(id: string): number {
    return id.length;
  }

  // A generic method.
  @SingleFlight((id: string) => id)
  async generic<T>(id: string, fallback: T): Promise<T> {
    void id;
    return fallback;
  }

  @SingleFlight()
  async genericByDefault<T extends string>(id: T): Promise<T> {
    return id;
  }

  // In applyDecorators, like any method decorator.
  @applyDecorators(SingleFlight(), MergeWrites())
  async composed(id: string): Promise<string> {
    return id;
  }

  @MergeWrites((id: string) => id)
  async push(id: string, state: State): Promise<void> {
    void [id, state];
  }

  @MergeWrites((id: string) => id, {
    merge: (pending: [string, State], next: [string, State]) =>
      next[1].version > pending[1].version ? next : pending,
  })
  async merged(id: string, state: State): Promise<void> {
    void [id, state];
  }

  // Unannotated, merge takes unknown[]: it can only return one of them.
  @MergeWrites((id: string) => id, { merge: (_pending, next) => next })
  async mergedUnannotated(id: string, state: State): Promise<void> {
    void [id, state];
  }

  @MergeWrites((id: string) => id, { version: (_id: string, state: State) => state.version })
  async versioned(id: string, state: State): Promise<void> {
    void [id, state];
  }

  // With `context: true` the method's last parameter is the run's context, which callers never
  // pass: the key function and merge are checked against the parameters before it.
  @MergeWrites((id: string, state: State) => `${id}/${state.version}`, {
    context: true,
    merge: (_pending: [string, State], next: [string, State]) => next,
  })
  async withContext(id: string, state: State, run: WriteRunContext): Promise<number> {
    void [id, state];
    return run.fence;
  }
}

/** An overloaded method takes a decorator whose key function fits its implementation. */
export class Overloads {
  async find(id: string): Promise<string>;
  async find(id: string, deep: boolean): Promise<string>;
  @SingleFlight((id: string) => id)
  async find(id: string, deep?: boolean): Promise<string> {
    return deep === true ? id : '';
  }
}

// Options typed apart from the decorator keep their checks.
const mergeOptions: MergeWritesOptions<[string, State]> = { merge: (_p, next) => next };

/** What must not compile: the mistakes each of the decorators must catch. */
export class Mistakes {
  // A key function with more parameters than the method (it would key on `eu/undefined`).
  // @ts-expect-error the key function's parameters do not match the method's
  @SingleFlight((region: string, business: string) => `${region}/${business}`)
  async moreKeyParams(region: string): Promise<Token> {
    return { ...token, value: region };
  }

  // A key function parameter of another type than the method's.
  // @ts-expect-error the key function's parameters do not match the method's
  @SingleFlight((id: number) => `${id}`)
  async wrongKeyType(id: string): Promise<Token> {
    return { ...token, value: id };
  }

  // Swapped parameters.
  // @ts-expect-error the key function's parameters do not match the method's
  @SingleFlight((id: string, page: number) => `${id}/${page}`)
  async swapped(page: number, id: string): Promise<Token> {
    return { ...token, value: `${id}/${page}` };
  }

  // A key function that returns no string.
  // @ts-expect-error a key is a string
  @SingleFlight((id: string) => id.length)
  async numericKey(id: string): Promise<Token> {
    return { ...token, value: id };
  }

  // A misspelled option.
  // @ts-expect-error `tll` is no option
  @SingleFlight((id: string) => id, { tll: 1_000 })
  async misspelled(id: string): Promise<Token> {
    return { ...token, value: id };
  }

  // ttl reads a property the method's value does not have.
  // @ts-expect-error ttl takes another type than the method's value
  @SingleFlight((id: string) => id, { ttl: (t: Token) => t.expiresInMs })
  async ttlOfOtherValue(id: string): Promise<{ value: string }> {
    return { value: id };
  }

  // shouldCache of another type, with the default key.
  // @ts-expect-error shouldCache takes another type than the method's value
  @SingleFlight({ shouldCache: (t: Token) => t.expiresInMs > 0 })
  async shouldCacheOfOtherValue(id: string): Promise<string> {
    return id;
  }

  // A value that can be null, but a ttl that reads it as a Token.
  // @ts-expect-error ttl takes another type than the method's value
  @SingleFlight('one', { ttl: (t: Token) => t.expiresInMs })
  async nullable(): Promise<Token | null> {
    return null;
  }

  // The Observable's element type, not the Observable, is the value.
  // @ts-expect-error shouldCache takes another type than the method's value
  @SingleFlight((id: string) => id, { shouldCache: (t: Observable<Token>) => t !== null })
  streamed(id: string): Observable<Token> {
    return of({ ...token, value: id });
  }

  // Unannotated, the value is unknown: reading a property needs the type.
  // @ts-expect-error 't' is of type 'unknown'
  @SingleFlight({ ttl: (t) => t.expiresInMs })
  async unannotatedRead(id: string): Promise<Token> {
    return { ...token, value: id };
  }

  // A merge of other parameters than the method's.
  // @ts-expect-error merge takes other parameters than the method's
  @MergeWrites((id: string) => id, { merge: (_p: [string], next: [string]) => next })
  async mergeOfFewer(id: string, state: State): Promise<void> {
    void [id, state];
  }

  // @ts-expect-error merge takes other parameters than the method's
  @MergeWrites({ merge: (_p: [string, number], next: [string, number]) => next })
  async mergeOfOtherTypes(id: string, state: State): Promise<void> {
    void [id, state];
  }

  // A version of other parameters than the method's.
  // @ts-expect-error version takes other parameters than the method's
  @MergeWrites('all', { version: (_id: string, v: number) => v })
  async versionOfOtherTypes(id: string, state: State): Promise<void> {
    void [id, state];
  }

  // A @MergeWrites() key function with more parameters than the method.
  // @ts-expect-error the key function's parameters do not match the method's
  @MergeWrites((id: string, state: State) => `${id}/${state.version}`)
  async pushMore(id: string): Promise<void> {
    void id;
  }

  // With `context: true`, the context is not an argument the key function gets.
  // @ts-expect-error the key function's parameters do not match the method's
  @MergeWrites((id: string, run: WriteRunContext) => `${id}/${run.fence}`, { context: true })
  async contextInKey(id: string, run: WriteRunContext): Promise<void> {
    void [id, run];
  }

  // Options typed apart, for another method.
  // @ts-expect-error merge takes other parameters than the method's
  @MergeWrites('all', mergeOptions)
  async mergeOptionsOfOther(id: number): Promise<void> {
    void id;
  }

  // A misspelled @MergeWrites() option.
  // @ts-expect-error `retries` is no option
  @MergeWrites((id: string) => id, { retries: { attempts: 2 } })
  async misspelledWrite(id: string): Promise<void> {
    void id;
  }
}
