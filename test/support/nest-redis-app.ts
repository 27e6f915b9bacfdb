import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createClient } from 'redis';
import {
  SingleflightModule,
  type SingleflightModuleOptions,
  type SingleflightRedisOptions,
} from '../../lib/index.js';
import type { RedisCoordination } from '../../lib/nest/redis-coordination.js';
import { REDIS_COORDINATION } from '../../lib/nest/singleflight.constants.js';

/** One instance of a Nest app, with its own node-redis client: one pod of a fleet. */
export interface RedisApp {
  app: INestApplication;
  /** The app's distributed engines (for their stats). */
  coordination: RedisCoordination;
  close(): Promise<void>;
}

export async function startRedisApp(
  url: string,
  redis: Omit<SingleflightRedisOptions, 'client'>,
  { controllers = [], providers = [] }: { controllers?: Type[]; providers?: Type[] },
  /** The module's other options (e.g. `codecs`). */
  module: Omit<SingleflightModuleOptions, 'redis'> = {},
): Promise<RedisApp> {
  const client = createClient({ url, disableOfflineQueue: true });
  await client.connect();
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [SingleflightModule.forRoot({ ...module, redis: { client, ...redis } })],
      controllers,
      providers,
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return {
      app,
      coordination: app.get<RedisCoordination>(REDIS_COORDINATION),
      async close() {
        await app.close();
        client.destroy();
      },
    };
  } catch (error) {
    client.destroy();
    throw error;
  }
}
