import { fork } from 'node:child_process';
import type { ChildProcess, ForkOptions } from 'node:child_process';

/** How a host child answers request `id`: its value, or the message of what went wrong. */
export type HostReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** A request without its `id`, which the host handle adds. */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface Host<Request extends { readonly id: number; readonly op: string }> {
  /** Sends `message` with a fresh id; resolves with the reply's value, rejects with its message or when the child dies. */
  request<T>(message: WithoutId<Request>): Promise<T>;
  /** Asks the child to `close`, then disconnects and waits for it to exit. Does nothing once it has exited. */
  close(): Promise<void>;
}

/**
 * Forks the host script at `path` with the loader flags of this process (tsx), so the child reads the workspace packages
 * from source as the bench does, and returns a handle that pairs each request with its reply. `name` appears in errors.
 */
export function forkHost<Request extends { readonly id: number; readonly op: string }>(
  path: string,
  name: string,
  options: Pick<ForkOptions, 'serialization'> = {},
): Host<Request> {
  const child: ChildProcess = fork(path, [], { ...options, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const failAll = (error: Error): void => {
    for (const entry of waiting.values()) entry.reject(error);
    waiting.clear();
  };
  child.on('message', (reply: HostReply) => {
    const entry = waiting.get(reply.id);
    if (entry === undefined) return;
    waiting.delete(reply.id);
    if (reply.ok) entry.resolve(reply.value);
    else entry.reject(new Error(`${name}: ${reply.message}`));
  });
  child.on('exit', (code) => failAll(new Error(`${name} exited (code ${String(code)})`)));
  child.on('error', failAll);
  const request = <T>(message: WithoutId<Request>): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...message, id });
    });
  };
  return {
    request,
    async close(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        await request({ op: 'close' } as WithoutId<Request>);
      } finally {
        child.disconnect();
        await exited;
      }
    },
  };
}
