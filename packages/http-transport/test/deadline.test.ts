import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHttpTransport } from '@x/http-transport';
import { hang, startServer } from './helpers.js';

// Fake setTimeout only: sockets stay real, the transport's deadline runs on the fake clock. Kept in a
// file of its own because undici's internal timers created here are fake too.
afterEach(() => {
  vi.useRealTimers();
});

describe('the per-call deadline', () => {
  it('covers waiting for a pooled connection, not only the exchange itself', async () => {
    const server = await startServer(hang);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const rpc = createHttpTransport({ url: `${server.origin}/rpc`, connections: 1 });
    try {
      const first = rpc.call('getSlot', [], { timeoutMs: 60_000 }).catch((error: unknown) => error);
      await server.waitForRequests(1);
      const queued = rpc.call('getSlot', [], { timeoutMs: 30_000 }).catch((error: unknown) => error);

      vi.advanceTimersByTime(29_999);
      const settled = await Promise.race([queued, Promise.resolve('pending')]);
      expect(settled).toBe('pending');

      vi.advanceTimersByTime(1);
      await expect(queued).resolves.toMatchObject({ code: 'HTTP_TIMEOUT', context: { timeoutMs: 30_000, phase: 'queued' } });
      expect(server.received).toHaveLength(1);

      vi.advanceTimersByTime(30_000);
      await expect(first).resolves.toMatchObject({ code: 'HTTP_TIMEOUT', context: { timeoutMs: 60_000, phase: 'response' } });
    } finally {
      vi.useRealTimers();
      await rpc.close();
      await server.stop();
    }
  });
});
