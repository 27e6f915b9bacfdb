import { jest } from '@jest/globals';

// node-redis is an optional peer dependency: here it is "not installed", so the module makes its
// client with ioredis.
jest.unstable_mockModule('redis', () => {
  throw new Error("Cannot find package 'redis'");
});
const { describeRedisUrl } = await import('../support/redis-url-suite.js');

describeRedisUrl('ioredis');
