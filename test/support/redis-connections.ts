import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RedisServer } from './redis-server.js';

/** The ids of the connections `server` has, apart from the redis-cli that asks (CLIENT LIST). */
export async function connectionIds(server: RedisServer): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)('redis-cli', [
    '-p',
    String(server.port),
    'CLIENT',
    'LIST',
  ]);
  return new Set(
    stdout
      .split('\n')
      .filter((line) => line.startsWith('id=') && !line.includes('cmd=client|list'))
      .map((line) => line.split(' ', 1)[0]!),
  );
}

/**
 * Those of `ids` the server still has. It drops a connection a moment after its socket closed,
 * so this asks again until none is left, for at most 5 s.
 */
export async function stillOpen(server: RedisServer, ids: string[]): Promise<string[]> {
  const deadline = Date.now() + 5000;
  let open = ids;
  while (open.length > 0 && Date.now() < deadline) {
    const now = await connectionIds(server);
    open = open.filter((id) => now.has(id));
  }
  return open;
}
