import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { XError, checkTimerMs, configError } from '@x/errors';
import { handlesReleased } from './handles.js';

const HOST = '127.0.0.1';
const DEFAULT_BINARY = '/usr/bin/redis-server';
const INSTALL_HINT = "install Debian's redis-server (`apt-get install -y redis-server`, as root or with sudo) or pass `binary`";

export interface RedisServerOptions {
  /** Path of the `redis-server` binary. Default `/usr/bin/redis-server` when it exists, else `redis-server` on `PATH`. */
  readonly binary?: string;
  /** Port on 127.0.0.1. Default: a free port (a restart on the same port passes the old one). */
  readonly port?: number;
  /** How long to wait for the server to answer. Default 10 000 ms. */
  readonly startTimeoutMs?: number;
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Ends the server by its PID (SIGTERM, SIGKILL after 5 s) and resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

declare module '@x/errors' {
  interface ErrorContexts {
    /** No `redis-server` binary at the given path, at /usr/bin/redis-server, or on PATH. */
    TESTKIT_REDIS_NOT_FOUND: { readonly searched: ReadonlyArray<string> };
    /** redis-server exited, or did not answer in time; `output` is the end of its log. */
    TESTKIT_REDIS_START_FAILED: { readonly port: number; readonly output: string };
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findBinary(binary: string | undefined): string {
  const searched =
    binary !== undefined
      ? [binary]
      : [
          DEFAULT_BINARY,
          ...(process.env.PATH ?? '')
            .split(delimiter)
            .filter(Boolean)
            .map((dir) => join(dir, 'redis-server')),
        ];
  const found = searched.find(isExecutable);
  if (found !== undefined) return found;
  throw new XError({
    code: 'TESTKIT_REDIS_NOT_FOUND',
    category: 'config',
    message: `redis-server was not found (${binary !== undefined ? binary : `${DEFAULT_BINARY} or PATH`}): ${INSTALL_HINT}`,
    context: { searched },
  });
}

async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True once the server on `port` answers and is the process `pid` (not another server already on that port). */
async function answers(port: number, pid: number | undefined): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      // Resolve once the socket's handle is gone, so a caller sees no trace of the probe.
      socket.once('close', () => setImmediate(() => resolve(ok)));
      socket.destroy();
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.startsWith('-')) done(false);
      const match = /process_id:(\d+)/.exec(reply);
      if (match !== null) done(Number(match[1]) === pid);
    });
  });
}

/**
 * Starts a real `redis-server` on 127.0.0.1 (a free port unless `port` is given) with persistence off (no RDB
 * snapshots, no AOF, a throw-away working directory), and resolves once it answers (as this process: not another server on that port). For tests: stop it with
 * `stop()`, which ends it by its PID. Rejects with `TESTKIT_REDIS_NOT_FOUND` when the binary is missing and with
 * `TESTKIT_REDIS_START_FAILED` when it exits or does not answer within `startTimeoutMs`.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const startTimeoutMs = checkTimerMs('TESTKIT_REDIS_INVALID_OPTIONS', 'startTimeoutMs', options.startTimeoutMs ?? 10_000);
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port > 0 && options.port < 65_536)) {
    throw configError(
      'TESTKIT_REDIS_INVALID_OPTIONS',
      'port',
      `port must be an integer in [1, 65535], got ${String(options.port)}`,
      options.port,
    );
  }
  const binary = findBinary(options.binary);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'x-redis-'));
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // A binary that cannot be spawned emits 'error' and no 'exit'.
    child.once('error', (error) => {
      spawnError = error;
      resolve();
    });
  });
  // A test runner that dies leaves no server behind.
  const onExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', onExit);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
        }, 5_000);
        await exited;
        clearTimeout(timer);
      }
      await exited;
      rmSync(dir, { recursive: true, force: true });
      await handlesReleased();
    })();
    return await stopping;
  };

  const started = performance.now();
  let running = true;
  void exited.then(() => {
    running = false;
  });
  for (;;) {
    if (spawnError !== undefined || !running) break;
    if (await answers(port, child.pid)) {
      return { url: `redis://${HOST}:${port}`, port, pid: child.pid as number, stop };
    }
    if (performance.now() - started > startTimeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await stop();
  throw new XError({
    code: 'TESTKIT_REDIS_START_FAILED',
    category: 'network',
    message: `redis-server (${binary}) did not start on ${HOST}:${port}${spawnError !== undefined ? `: ${spawnError.message}` : ''}${
      output.trim() !== '' ? `\n${output.trim()}` : ''
    }`,
    context: { port, output },
    cause: spawnError,
  });
}
