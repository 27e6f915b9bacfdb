import { SingleflightKeyError } from '../../core/singleflight.errors.js';
import * as messages from '../nest.messages.js';
import type { FlightMetadata } from '../decorators/flight-metadata.js';

/**
 * The one instance of a class whose calls of a method share flights, when the method uses the
 * default key without `shareAcrossRequests`: the default key holds only the arguments, so calls
 * through two instances (each with its own settings or request) must never share. The explorer
 * refuses a second registered instance at start-up; this catches the instances it cannot see
 * (made by ModuleRef.create(), for example) at their first call.
 */
export interface OneInstance {
  /** The instance that called first; undefined until a call. */
  self: object | undefined;
}

/** Whether calls through two instances of the method's class may not share: see `Prepared.only`. */
export function oneInstance(meta: FlightMetadata): OneInstance | undefined {
  const shares = meta.keySource !== undefined || meta.options.shareAcrossRequests === true;
  return shares ? undefined : { self: undefined };
}

/** The first instance to call is the method's; a call on any other fails, naming the fix. */
export function checkInstance(meta: FlightMetadata, only: OneInstance, self: object) {
  if (only.self === self) return;
  if (only.self !== undefined) {
    throw new SingleflightKeyError(messages.SECOND_INSTANCE(meta.decorator, meta.scope));
  }
  only.self = self;
}
