export * from './group.js';
export * from './group.interfaces.js';
export * from './write-group.js';
export * from './write-group.interfaces.js';
export * from './singleflight.errors.js';
export { serializeArgs } from './keys.js';
