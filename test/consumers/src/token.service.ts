import { Injectable } from '@nestjs/common';
import { SingleFlight } from 'nestjs-singleflight';
import { defer, map, timer } from 'rxjs';
// A type-only import in a decorated signature, as isolatedModules requires: its metadata says
// Object, so the decorator learns from the first result that the method returns an Observable.
import type { Observable } from 'rxjs';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Token {
  region: string;
  execution: number;
  nonce: string;
}

@Injectable()
export class TokenService {
  /** How many times the body ran. */
  executions = 0;
  /** Requests that reached the controller, and how many the slow body waits for. */
  arrived = 0;
  expected = 0;
  /** How many times watch's Observable was subscribed to. */
  subscriptions = 0;

  // Deliberately slow: the body ends only once every expected request has called it (at most
  // 10 s), so every call after the first must have joined this flight, or run a flight of its own.
  @SingleFlight((region: string) => region, { ttl: 60_000 })
  async token(region: string): Promise<Token> {
    const execution = ++this.executions;
    const deadline = Date.now() + 10_000;
    while (this.arrived < this.expected && Date.now() < deadline) await sleep(10);
    await sleep(100);
    return { region, execution, nonce: Math.random().toString(36).slice(2) };
  }

  @SingleFlight()
  watch(region: string): Observable<Token> {
    return defer(() => {
      const execution = ++this.subscriptions;
      const nonce = Math.random().toString(36).slice(2);
      return timer(50).pipe(map(() => ({ region, execution, nonce })));
    });
  }
}
