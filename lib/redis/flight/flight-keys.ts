import { keyHash } from '../coordinator/script-sha.js';

/**
 * The Redis names of one flight key (docs/redis-flight.md, "Keys"): `lock` (the leader's lease)
 * and `res` (the last result), under one hash tag so every script touches one Cluster slot, and
 * `hashed`, the tag itself, which the wake-up message `hashed\ntoken` names.
 */
export interface FlightKeys {
  readonly hashed: string;
  readonly lock: string;
  readonly res: string;
}

export function flightKeys(namespace: string, key: string): FlightKeys {
  const hashed = keyHash(namespace, key);
  return { hashed, lock: `${namespace}:{${hashed}}:lock`, res: `${namespace}:{${hashed}}:res` };
}
