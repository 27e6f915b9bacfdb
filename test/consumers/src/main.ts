// A consumer app of the packed nestjs-singleflight: boots on a free port, fires concurrent HTTP
// requests at a route whose service method has @SingleFlight() and a slow body, and exits 0 only
// if the body ran once and every response is the same. Run: node dist/main.js <label>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { Group } from 'nestjs-singleflight';
import { AppModule } from './app.module.js';
import { TokenService } from './token.service.js';

const REQUESTS = Number(process.env.REQUESTS ?? 50);

async function main(): Promise<boolean> {
  const label = process.argv[2] ?? 'app';
  const nest = JSON.parse(
    readFileSync(join(process.cwd(), 'node_modules/@nestjs/core/package.json'), 'utf8'),
  ) as { version: string };
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const tokens = app.get(TokenService);
  tokens.expected = REQUESTS;
  try {
    const bodies = await Promise.all(
      Array.from({ length: REQUESTS }, async () => {
        const res = await fetch(`${url}/token/eu`);
        if (res.status !== 200) throw new Error(`GET /token/eu: HTTP ${res.status}`);
        return res.text();
      }),
    );
    const distinct = new Set(bodies);
    const { calls, flights, joins } = app.get(Group).stats();
    const ok = tokens.executions === 1 && distinct.size === 1 && calls === REQUESTS;
    console.log(
      `${label} (Nest ${nest.version}): ${REQUESTS} concurrent requests -> ${tokens.executions} ` +
        `execution(s), ${distinct.size} distinct response(s), group ${JSON.stringify({ calls, flights, joins })}: ` +
        (ok ? 'ok' : 'FAILED'),
    );
    return ok;
  } finally {
    await app.close();
  }
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
