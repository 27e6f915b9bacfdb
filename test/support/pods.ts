import { fork, type ChildProcess } from 'node:child_process';

/**
 * A Node process standing in for one pod of a fleet. Pod scripts are TypeScript run through tsx
 * (no Nest there: esbuild does not emit decorator metadata), and talk to the test over IPC.
 */
export interface Pod<Message = unknown> {
  readonly process: ChildProcess;
  readonly messages: Message[];
  send(message: unknown): void;
  /** Resolves with the first message (already received or future) that matches. */
  next(match: (message: Message) => boolean, ms?: number): Promise<Message>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves with the exit code once the pod has ended on its own. */
  exited(): Promise<number | null>;
}

export function spawnPod<Message = unknown>(
  script: string,
  env: Record<string, string> = {},
): Pod<Message> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Message[] = [];
  const listeners = new Set<(message: Message) => void>();
  child.on('message', (message) => {
    messages.push(message as Message);
    for (const listener of listeners) listener(message as Message);
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.once('exit', () => child.kill('SIGKILL'));

  return {
    process: child,
    messages,
    send: (message) => child.send(message as never),
    next(match, ms = 20_000) {
      const seen = messages.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`pod ${script} sent no matching message within ${ms} ms`));
        }, ms);
        const listener = (message: Message) => {
          if (!match(message)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(message);
        };
        listeners.add(listener);
      });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exit;
    },
    exited: () => exit,
  };
}
