import { describe, expect, it, jest } from '@jest/globals';
import { Test } from '@nestjs/testing';

// Both Redis clients are optional peer dependencies: here neither is installed.
for (const name of ['redis', 'ioredis']) {
  jest.unstable_mockModule(name, () => {
    throw new Error(`Cannot find package '${name}'`);
  });
}
const { SingleflightModule, SingleflightOptionsError } = await import('../../lib/index.js');

describe('redis: { url } without redis or ioredis installed', () => {
  it('fails the start-up with a named error that says what to install', async () => {
    const start = Test.createTestingModule({
      imports: [
        SingleflightModule.forRoot({ redis: { url: 'redis://127.0.0.1:1', namespace: 'app' } }),
      ],
    }).compile();
    await expect(start).rejects.toThrow(SingleflightOptionsError);
    await expect(start).rejects.toThrow(
      /`redis\.url` in SingleflightModule\.forRoot\(\) needs a Redis client library.*npm install redis/,
    );
  });
});
