// One process of a fleet, for test/nest/flight-scope.e2e-spec.ts: loads the two `Catalog` classes
// in the order given (`prices,products` or `products,prices`), then boots two Nest apps, one with
// both classes and one with the products' alone, and prints what each gave as one JSON line: the
// scope of each class's method, or the boot's error.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SingleflightModule } from '../../../../lib/index.js';
import { FLIGHT_METADATA } from '../../../../lib/nest/singleflight.constants.js';

type Catalog = { prototype: { get: object } };
const classes: Record<string, Catalog> = {};
for (const name of process.argv[2]!.split(',')) {
  classes[name] = ((await import(`./${name}.catalog.js`)) as { Catalog: Catalog }).Catalog;
}

async function boot(inApp: string[]): Promise<unknown> {
  @Module({
    imports: [SingleflightModule.forRoot()],
    providers: inApp.map((name) => ({ provide: name, useClass: classes[name] as never })),
  })
  class AppModule {}
  try {
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    });
    await app.close();
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
  const scopeOf = (name: string) =>
    (Reflect.getMetadata(FLIGHT_METADATA, classes[name]!.prototype.get) as { scope: string }).scope;
  return { scopes: Object.fromEntries(inApp.map((name) => [name, scopeOf(name)])) };
}

console.log(
  JSON.stringify({ both: await boot(['prices', 'products']), products: await boot(['products']) }),
);
