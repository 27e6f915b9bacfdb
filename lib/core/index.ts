// nestjs-singleflight/core: the engines for any Node program, with no Nest, rxjs or Redis.
// Every entry re-exports these same modules, so a class is one class whichever entry it came from.
export { Group } from './group.js';
export type {
  CallOptions,
  FlightResult,
  GroupOptions,
  GroupStats,
  Work,
} from './group.interfaces.js';
export { WriteGroup } from './write-group.js';
export type {
  RetryOptions,
  WriteCallOptions,
  WriteGroupOptions,
  WriteGroupStats,
} from './write-group.interfaces.js';
export {
  SingleflightAbortError,
  SingleflightArgumentError,
  SingleflightKeyError,
  SingleflightOptionsError,
  SingleflightReentryError,
  SingleflightThrownValueError,
  SingleflightTimeoutError,
} from './singleflight.errors.js';
export { serializeArgs } from './keys.js';
