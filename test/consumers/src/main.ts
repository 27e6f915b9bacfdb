// A consumer app of the packed nestjs-singleflight: boots on a free port, fires concurrent HTTP
// requests at a route whose service method has @SingleFlight() and a slow body, subscribes as
// often to a @SingleFlight() Observable method, and checks the three entry points (entries.ts).
// Exits 0 only if each body ran once, every response is the same, the value reached the app's
// non-global CacheModule, and every entry check held.
// Run: node dist/main.js <label>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { NestFactory } from '@nestjs/core';
import type { Cache } from 'cache-manager';
import { Group } from 'nestjs-singleflight';
import { lastValueFrom } from 'rxjs';
import { AppModule } from './app.module.js';
import { checkEntries } from './entries.js';
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

    // The value went to the app's CACHE_MANAGER, from a CacheModule.register() that is not global.
    const stored = await app.get<Cache>(CACHE_MANAGER).get('TokenService.token:eu#sf1');
    const cacheOk = JSON.stringify(stored) === bodies[0];
    console.log(
      `${label}: non-global CacheModule.register(): the app's CACHE_MANAGER holds the value: ` +
        (cacheOk ? 'ok' : `FAILED (${JSON.stringify(stored)})`),
    );

    // Subscribers that arrive while the Observable runs share its one subscription.
    const watched = await Promise.all(
      Array.from({ length: REQUESTS }, () => lastValueFrom(tokens.watch('eu'))),
    );
    const watchOk = tokens.subscriptions === 1 && new Set(watched.map((t) => t.nonce)).size === 1;
    console.log(
      `${label}: ${REQUESTS} subscribers of an Observable method (import type { Observable }) -> ` +
        `${tokens.subscriptions} subscription(s): ${watchOk ? 'ok' : 'FAILED'}`,
    );

    const checks = await checkEntries(app);
    for (const [name, held] of checks)
      console.log(`${label}: entries: ${name}: ${held ? 'ok' : 'FAILED'}`);
    return ok && cacheOk && watchOk && checks.every(([, held]) => held);
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
