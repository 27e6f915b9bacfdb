import { createDefaultEsmPreset } from 'ts-jest';

/** @type {import('jest').Config} */
export default {
  ...createDefaultEsmPreset({ tsconfig: '<rootDir>/tsconfig.json' }),
  testEnvironment: 'node',
  // A guard against a test that hangs, not a speed check (speed is for npm run bench): on a loaded
  // 2-core machine, 1000 HTTP requests to the sample take longer than jest's default 5 s.
  testTimeout: 30_000,
  roots: ['<rootDir>/test'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  moduleNameMapper: {
    // The package's entries by name, as the sample and the consumer sources import them.
    '^nestjs-singleflight$': '<rootDir>/lib/index.ts',
    '^nestjs-singleflight/(core|redis)$': '<rootDir>/lib/$1/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1', // NodeNext ".js" specifiers -> .ts sources
  },
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/dist-sample', '<rootDir>/dist-bench'],
  collectCoverageFrom: ['lib/**/*.ts'],
};
