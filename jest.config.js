import { createDefaultEsmPreset } from 'ts-jest';

/** @type {import('jest').Config} */
export default {
  ...createDefaultEsmPreset({ tsconfig: '<rootDir>/tsconfig.json' }),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  moduleNameMapper: {
    '^nestjs-singleflight$': '<rootDir>/lib/index.ts', // what the sample imports
    '^(\\.{1,2}/.*)\\.js$': '$1', // NodeNext ".js" specifiers -> .ts sources
  },
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/dist-sample', '<rootDir>/dist-bench'],
  collectCoverageFrom: ['lib/**/*.ts'],
};
