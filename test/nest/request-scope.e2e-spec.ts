import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Param,
  Scope,
  type Type,
} from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import request from 'supertest';
import { Group, MergeWrites, SingleFlight, SingleflightOptionsError } from '../../lib/index.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { nestApps } from '../support/nest-app.js';
import { until } from '../support/until.js';

// A request-scoped provider can read the caller from the request it holds. The default key holds
// only the arguments, so before this check 4 users asking for the same id all got the first
// user's profile. Now the default key fails the boot there, and the method has to say what its
// result depends on: a key with the user, or `shareAcrossRequests: true`.

interface Incoming {
  headers: Record<string, string | undefined>;
}
interface Profile {
  user: string | undefined;
  id: string;
}

let backend: { calls: (string | undefined)[]; gate: Deferred<void> };
beforeEach(() => {
  backend = { calls: [], gate: deferred() };
});
/** The backend: what it returns depends on the user, as a profile or an order list does. */
async function profileOf(user: string | undefined, id: string): Promise<Profile> {
  backend.calls.push(user);
  await backend.gate.promise;
  return { user, id };
}

const boot = nestApps();

/** Boots an app that serves `GET /profile/:id` from `Service.get(id)`. */
function profileApp(Service: Type<{ get(id: string): Promise<Profile> }>) {
  @Controller('profile')
  class ProfileController {
    constructor(
      @Inject(Service) private readonly profiles: { get(id: string): Promise<Profile> },
    ) {}

    @Get(':id')
    get(@Param('id') id: string) {
      return this.profiles.get(id);
    }
  }
  return boot([Service], [ProfileController]);
}

const USERS = ['alice', 'bob', 'carol', 'dave'];

/** 5 concurrent requests from each of 4 users, all in flight before the backend answers. */
async function askAsFourUsers(nest: INestApplication, path: string) {
  await nest.listen(0, '127.0.0.1');
  const url = await nest.getUrl();
  const responses = Promise.all(
    USERS.flatMap((user) =>
      Array.from({ length: 5 }, () =>
        request(url)
          .get(path)
          .set('x-user', user)
          .then((r) => ({ asked: user, status: r.status, body: r.body as Profile })),
      ),
    ),
  );
  await until(() => nest.get(Group).stats().calls === 20);
  backend.gate.resolve();
  return responses;
}

describe('@SingleFlight on a request-scoped provider over HTTP, 4 users', () => {
  it('fails at start-up with the default key, naming both fixes', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class ProfileService {
      constructor(@Inject(REQUEST) private readonly request: Incoming) {}

      @SingleFlight()
      async get(id: string): Promise<Profile> {
        return profileOf(this.request.headers['x-user'], id);
      }
    }
    const booting = profileApp(ProfileService);
    await expect(booting).rejects.toThrow(SingleflightOptionsError);
    await expect(booting).rejects.toThrow(
      /^ProfileService\.get is on ProfileService, which is request-scoped \(Scope\.REQUEST\).*concurrent calls through different instances would share one result, and one user could get another's\. Either give a key that includes what identifies the caller .*function \(this: ProfileService.*or, when the result depends on the arguments alone, say so: @SingleFlight\(\{ shareAcrossRequests: true \}\)\.$/,
    );
  });

  it('with `shareAcrossRequests: true`, every user shares one flight, as the method said', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RatesService {
      @SingleFlight({ shareAcrossRequests: true })
      async get(id: string): Promise<Profile> {
        return profileOf(undefined, id);
      }
    }
    const answers = await askAsFourUsers(await profileApp(RatesService), '/profile/7');
    expect(backend.calls).toHaveLength(1);
    expect(answers.every((a) => a.status === 200 && a.body.id === '7')).toBe(true);
  });

  it('with a key that includes the user, each user gets their own result', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class ProfileService {
      constructor(@Inject(REQUEST) private readonly request: Incoming) {}

      get user() {
        return this.request.headers['x-user'];
      }

      // A key function is called with `this`: the request-scoped instance.
      @SingleFlight(function (this: ProfileService, id: string) {
        return `${this.user}:${id}`;
      })
      async get(id: string): Promise<Profile> {
        return profileOf(this.user, id);
      }
    }
    const answers = await askAsFourUsers(await profileApp(ProfileService), '/profile/7');
    expect([...backend.calls].sort()).toEqual(USERS);
    for (const answer of answers) {
      expect(answer).toEqual({
        asked: answer.asked,
        status: 200,
        body: { user: answer.asked, id: '7' },
      });
    }
  });
});

describe('implicit and durable request scope', () => {
  it('fails at start-up on a provider that injects REQUEST without declaring a scope', async () => {
    @Injectable()
    class ProfileService {
      constructor(@Inject(REQUEST) private readonly request: Incoming) {}

      @SingleFlight()
      async get(id: string): Promise<Profile> {
        return profileOf(this.request.headers['x-user'], id);
      }
    }
    await expect(profileApp(ProfileService)).rejects.toThrow(
      /^ProfileService\.get is on ProfileService, which is request-scoped \(through what it injects: REQUEST, or a provider that is request-scoped\)/,
    );
  });

  it('fails at start-up on a provider that reads REQUEST through a property', async () => {
    @Injectable()
    class ProfileService {
      @Inject(REQUEST) private readonly request!: Incoming;

      @SingleFlight()
      async get(id: string): Promise<Profile> {
        return profileOf(this.request.headers['x-user'], id);
      }
    }
    await expect(profileApp(ProfileService)).rejects.toThrow(/which is request-scoped \(through/);
  });

  it('fails at start-up on a provider that injects a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class CurrentUser {
      constructor(@Inject(REQUEST) readonly request: Incoming) {}
    }
    @Injectable()
    class ProfileService {
      constructor(@Inject(CurrentUser) private readonly current: CurrentUser) {}

      @SingleFlight()
      async get(id: string): Promise<Profile> {
        return profileOf(this.current.request.headers['x-user'], id);
      }
    }
    await expect(boot([CurrentUser, ProfileService])).rejects.toThrow(
      /^ProfileService\.get is on ProfileService, which is request-scoped \(through what it injects/,
    );
  });

  it('fails at start-up on a durable provider', async () => {
    @Injectable({ scope: Scope.REQUEST, durable: true })
    class TenantService {
      @SingleFlight()
      async get(id: string): Promise<Profile> {
        return profileOf(undefined, id);
      }
    }
    await expect(boot([TenantService])).rejects.toThrow(
      /^TenantService\.get is on TenantService, which is request-scoped \(durable\)/,
    );
  });

  it('fails at start-up for @MergeWrites() with the default key', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PushService {
      @MergeWrites()
      async push(id: string): Promise<void> {
        await profileOf(undefined, id);
      }
    }
    await expect(boot([PushService])).rejects.toThrow(
      /^PushService\.push is on PushService, which is request-scoped .*@MergeWrites\(\{ shareAcrossRequests: true \}\)\.$/,
    );
  });

  it('still boots a singleton with the default key, and a request-scoped one with a key', async () => {
    @Injectable()
    class Singleton {
      @SingleFlight()
      async get(id: string): Promise<Profile> {
        return profileOf(undefined, id);
      }
    }
    @Injectable({ scope: Scope.REQUEST })
    class Keyed {
      @SingleFlight('all')
      async get(id: string): Promise<Profile> {
        return profileOf(undefined, id);
      }
    }
    await expect(boot([Singleton, Keyed])).resolves.toBeDefined();
  });
});

describe('a transient provider', () => {
  /** An HTTP client each consumer points at its own base URL, as a transient provider allows. */
  function transientClient(key?: (this: { base: string }, path: string) => string) {
    const flight = key === undefined ? SingleFlight() : (SingleFlight(key) as MethodDecorator);
    @Injectable({ scope: Scope.TRANSIENT })
    class ApiClient {
      base = '';

      @flight
      async get(path: string): Promise<Profile> {
        return profileOf(this.base, path);
      }
    }
    @Injectable()
    class Billing {
      constructor(@Inject(ApiClient) readonly api: ApiClient) {
        api.base = 'billing';
      }
    }
    @Injectable()
    class Shipping {
      constructor(@Inject(ApiClient) readonly api: ApiClient) {
        api.base = 'shipping';
      }
    }
    return { providers: [ApiClient, Billing, Shipping], Billing, Shipping };
  }

  it('fails at start-up with the default key: each consumer has its own instance', async () => {
    await expect(boot(transientClient().providers)).rejects.toThrow(
      /^ApiClient\.get is on ApiClient, which is transient \(Scope\.TRANSIENT: each class that injects it gets an instance of its own\)/,
    );
  });

  it("with a key that includes the instance's settings, each consumer gets its own result", async () => {
    const client = transientClient(function (path) {
      return `${this.base}:${path}`;
    });
    const nest = await boot(client.providers);
    const calls = [nest.get(client.Billing).api.get('/x'), nest.get(client.Shipping).api.get('/x')];
    backend.gate.resolve();
    expect(await Promise.all(calls)).toEqual([
      { user: 'billing', id: '/x' },
      { user: 'shipping', id: '/x' },
    ]);
  });
});

describe('a request-scoped controller', () => {
  it('fails at start-up when a route handler uses the default key', async () => {
    @Controller({ path: 'me', scope: Scope.REQUEST })
    class MeController {
      constructor(@Inject(REQUEST) private readonly request: Incoming) {}

      @Get(':id')
      @SingleFlight()
      async me(@Param('id') id: string): Promise<Profile> {
        return profileOf(this.request.headers['x-user'], id);
      }
    }
    await expect(boot([], [MeController])).rejects.toThrow(
      /^MeController\.me is on MeController, which is request-scoped \(Scope\.REQUEST\)/,
    );
  });

  it('gives each of 4 users their own result with a key that includes the user', async () => {
    @Controller({ path: 'me', scope: Scope.REQUEST })
    class MeController {
      constructor(@Inject(REQUEST) private readonly request: Incoming) {}

      @Get(':id')
      @SingleFlight(function (this: MeController, id: string) {
        return `${this.request.headers['x-user']}:${id}`;
      })
      async me(@Param('id') id: string): Promise<Profile> {
        return profileOf(this.request.headers['x-user'], id);
      }
    }
    const answers = await askAsFourUsers(await boot([], [MeController]), '/me/7');
    expect([...backend.calls].sort()).toEqual(USERS);
    expect(answers.every((a) => a.status === 200 && a.body.user === a.asked)).toBe(true);
  });
});
