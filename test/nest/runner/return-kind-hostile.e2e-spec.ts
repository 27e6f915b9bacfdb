import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { SingleFlight } from '../../../lib/index.js';
import { nestApps } from '../../support/nest-app.js';

const boot = nestApps();

/** What a strict settings proxy is like: reading a property it does not have throws. */
function strict<T extends object>(target: T): T {
  return new Proxy(target, {
    get(object, name) {
      if (!(name in object)) throw new Error(`no setting ${String(name)}`);
      return Reflect.get(object, name) as unknown;
    },
  });
}

/** No return type annotated: the first result decides what the method returns. */
@Injectable()
class Settings {
  runs = 0;

  @SingleFlight()
  load(name: string) {
    this.runs++;
    return strict({ name, run: this.runs });
  }
}

// A first result whose `then` cannot be read (a Proxy that throws on unknown properties) made
// the decorated method throw that error synchronously, and left the flight's rejection unhandled.
describe('a method with no return type whose first result throws when `then` is read', () => {
  it('rejects its caller with that error instead of throwing, and later calls still run', async () => {
    const app = await boot([Settings]);
    const settings = app.get(Settings);
    let call!: Promise<unknown>;
    expect(() => {
      call = settings.load('a') as unknown as Promise<unknown>;
    }).not.toThrow();
    await expect(call).rejects.toThrow('no setting then');
    const again = settings.load('b') as unknown as Promise<unknown>;
    await expect(again).rejects.toThrow('no setting then');
    expect(settings.runs).toBe(2);
  });
});
