// The package's three entry points, as a user's app imports them: each must load, type-check and
// share its classes with the others (one copy of each module, whichever entry loaded it).
import type { INestApplicationContext } from '@nestjs/common';
import {
  Group as RootGroup,
  RemoteFlightError as RootRemoteFlightError,
  SingleflightArgumentError,
  SingleflightCoordinationError as RootCoordinationError,
  SingleflightTimeoutError,
  type WriteRunContext,
} from 'nestjs-singleflight';
import { Group, WriteGroup, serializeArgs, type GroupStats } from 'nestjs-singleflight/core';
import {
  DistributedFlight,
  DistributedWriteGroup,
  MISS_SENTINEL,
  RemoteFlightError,
  SingleflightCoordinationError,
  ioredisAdapter,
  nodeRedisAdapter,
  type DistributedFlightOptions,
  type WriteRunContext as RedisWriteRunContext,
} from 'nestjs-singleflight/redis';

// Types from each entry, checked by tsc: the option a user writes, a stats shape, and one type
// the root and /redis both give.
const flightOptions: DistributedFlightOptions = { leaseMs: 5_000 };
const sameContext = (context: RedisWriteRunContext): WriteRunContext => context;

/** Each check's name and whether it held; the app passes only if all did. */
export async function checkEntries(app: INestApplicationContext): Promise<[string, boolean][]> {
  const never = () => new Promise<never>(() => {});
  const timedOut = await new Group()
    .do('k', never, { timeout: 1 })
    .catch((error: unknown) => error);
  let badClient: unknown;
  try {
    nodeRedisAdapter({} as never);
  } catch (error) {
    badClient = error;
  }
  const stats: GroupStats = app.get(Group).stats();
  return [
    ['root Group === /core Group', RootGroup === Group],
    [
      'root RemoteFlightError === /redis RemoteFlightError',
      RootRemoteFlightError === RemoteFlightError,
    ],
    [
      'root SingleflightCoordinationError === /redis SingleflightCoordinationError',
      RootCoordinationError === SingleflightCoordinationError,
    ],
    ['the app injects /core Group as its own Group', app.get(Group) === app.get(RootGroup)],
    [
      'a /core timeout is a root SingleflightTimeoutError',
      timedOut instanceof SingleflightTimeoutError,
    ],
    [
      'a /redis argument error is a root SingleflightArgumentError',
      badClient instanceof SingleflightArgumentError,
    ],
    ['/core WriteGroup runs', (await new WriteGroup().do('k', async () => 'w')) === 'w'],
    ['/core serializeArgs', serializeArgs(['eu', 1], 'check') === '["eu",1]'],
    [
      '/redis loads',
      [DistributedFlight, DistributedWriteGroup, ioredisAdapter].every(
        (f) => typeof f === 'function',
      ),
    ],
    ['/redis MISS_SENTINEL', typeof MISS_SENTINEL === 'symbol' && flightOptions.leaseMs === 5_000],
    ['stats typed by /core', stats.calls >= 0 && typeof sameContext === 'function'],
  ];
}
