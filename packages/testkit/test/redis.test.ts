import { createConnection } from 'node:net';
import { isXError } from '@x/errors';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from '../src/index.js';

/** Sends one inline command and resolves with the first reply line. */
async function command(port: number, line: string): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}

describe('startRedisServer', () => {
  it('starts a real redis-server on loopback with persistence off, and stops it by PID', async () => {
    const redis = await startRedisServer();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(redis.pid).toBeGreaterThan(0);
      expect(await command(redis.port, 'SET k v')).toBe('+OK\r\n');
      expect(await command(redis.port, 'GET k')).toBe('$1\r\nv\r\n');
      expect(await command(redis.port, 'CONFIG GET save')).toContain('save\r\n$0\r\n');
      expect(await command(redis.port, 'CONFIG GET appendonly')).toContain('no');
    } finally {
      await redis.stop();
    }
    expect(() => process.kill(redis.pid, 0)).toThrow();
    await expect(command(redis.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
    await redis.stop(); // idempotent
  });

  it('restarts on the same port, empty', async () => {
    const first = await startRedisServer();
    await command(first.port, 'SET k v');
    await first.stop();
    const second = await startRedisServer({ port: first.port });
    try {
      expect(second.port).toBe(first.port);
      expect(second.pid).not.toBe(first.pid);
      expect(await command(second.port, 'GET k')).toBe('$-1\r\n');
    } finally {
      await second.stop();
    }
  });

  it('says how to install redis-server when the binary is missing', async () => {
    const error: unknown = await startRedisServer({ binary: '/nonexistent/redis-server' }).catch((caught: unknown) => caught);
    expect(isXError(error, 'TESTKIT_REDIS_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('apt-get install -y redis-server');
  });

  it('rejects with the server log when redis-server cannot start', async () => {
    const blocker = await startRedisServer();
    try {
      const error: unknown = await startRedisServer({ port: blocker.port, startTimeoutMs: 2_000 }).catch((caught: unknown) => caught);
      // The blocker answers on that port, but it is not the new process, which exits with its bind error.
      expect(isXError(error, 'TESTKIT_REDIS_START_FAILED')).toBe(true);
      expect((error as Error).message).toMatch(/in use|bind/i);
    } finally {
      await blocker.stop();
    }
  });
});
