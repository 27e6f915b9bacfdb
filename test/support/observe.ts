import { expect } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** Keeps the debug lines of the library's logger context. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log() {}
  error() {}
  warn() {}
  verbose() {}
  debug(message: unknown, context?: string) {
    if (context === 'Singleflight') this.lines.push(String(message));
  }
}

/** A sample's value in the text exposition (0 when the series does not exist yet). */
export async function read(registry: Registry, name: string, method: string): Promise<number> {
  const text = await registry.metrics();
  const escaped = method.replaceAll('.', '\\.');
  const line = new RegExp(`^singleflight_${name}\\{method="${escaped}"\\} (\\S+)$`, 'm');
  const match = line.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** Expects exactly these sample values for `method`: the names are the expected object's keys. */
export async function expectCounts(
  registry: Registry,
  method: string,
  expected: Record<string, number>,
) {
  const entries = await Promise.all(
    Object.keys(expected).map(async (name) => [name, await read(registry, name, method)] as const),
  );
  expect(Object.fromEntries(entries)).toEqual(expected);
}
