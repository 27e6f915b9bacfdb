import { Injectable } from '@nestjs/common';
import { SingleFlight } from 'nestjs-singleflight';

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

  // Deliberately slow: the body ends only once every expected request has called it (at most
  // 10 s), so every call after the first must have joined this flight, or run a flight of its own.
  @SingleFlight((region: string) => region)
  async token(region: string): Promise<Token> {
    const execution = ++this.executions;
    const deadline = Date.now() + 10_000;
    while (this.arrived < this.expected && Date.now() < deadline) await sleep(10);
    await sleep(100);
    return { region, execution, nonce: Math.random().toString(36).slice(2) };
  }
}
