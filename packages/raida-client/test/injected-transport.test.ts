import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { XError, abortedError, isXError } from '@x/errors';
import { createRaidaClient, createRaidaHealer } from '@x/raida-client';
import { createTestCoins } from '@x/testkit';
import type { RaidaServer } from '@x/raida-protocol';
import type { UdpClient, UdpFanOutItem, UdpFanOutOptions, UdpOutcome } from '@x/udp-transport';

/**
 * A UDP transport of servers that never answer, on the (fake) timers of the test: each item fails with a
 * `timeout` after its own `timeoutMs`, or at once when the call's signal aborts — what `@x/udp-transport` does.
 * It records every fan-out, so a test sees what the RAIDA client asked of its injected transport.
 */
function silentTransport(): UdpClient & { readonly fanOuts: UdpFanOutItem[][]; closed: boolean } {
  const fanOuts: UdpFanOutItem[][] = [];
  const transport = {
    fanOuts,
    closed: false,
    fanOut(items: readonly UdpFanOutItem[], options?: UdpFanOutOptions): Promise<UdpOutcome[]> {
      fanOuts.push([...items]);
      const startedAt = performance.now();
      return new Promise((resolve) => {
        const outcomes = new Array<UdpOutcome | undefined>(items.length);
        let left = items.length;
        const settle = (index: number, error: XError, latencyMs: number): void => {
          if (outcomes[index] !== undefined) return;
          const outcome: UdpOutcome = { ok: false, error, latencyMs, target: items[index]!.target };
          outcomes[index] = outcome;
          options?.onOutcome?.(outcome, index);
          if (--left > 0) return;
          timers.forEach(clearTimeout);
          options?.signal?.removeEventListener('abort', onAbort);
          resolve(outcomes as UdpOutcome[]);
        };
        const timers = items.map((item, index) =>
          setTimeout(() => {
            const { host, port } = item.target;
            const error = new XError({
              code: 'UDP_TIMEOUT',
              category: 'timeout',
              message: 'silent',
              context: { host, port, timeoutMs: item.timeoutMs! },
            });
            settle(index, error, item.timeoutMs!);
          }, item.timeoutMs),
        );
        const onAbort = (): void => {
          const reason: unknown = options?.signal?.reason;
          const error = isXError(reason) ? reason : abortedError(reason);
          items.forEach((_, index) => settle(index, error, performance.now() - startedAt));
        };
        options?.signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    request: () => Promise.reject(new Error('not used by the RAIDA client')),
    stats: () => ({
      sent: 0,
      received: 0,
      droppedSpoofed: 0,
      droppedLate: 0,
      droppedOversize: 0,
      droppedRejected: 0,
      timeouts: 0,
      errors: 0,
      aborted: 0,
      inFlight: 0,
      openSockets: 0,
    }),
    close() {
      transport.closed = true;
      return Promise.resolve();
    },
  };
  return transport;
}

const servers: RaidaServer[] = [0, 1, 2].map((id) => ({ id, host: '127.0.0.1', port: 40_000 + id }));

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the UDP transport is injected', () => {
  it('sends each attempt with attemptTimeoutMs, retries × 1.5, and never closes a transport it was given', async () => {
    const udp = silentTransport();
    const client = createRaidaClient({ servers, udp, attemptTimeoutMs: 1000 });
    let settled = false;
    const call = client.echo({ retries: 2 }).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(1000 + 1500 + 2250 - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const result = await call;
    expect(udp.fanOuts.map((items) => items.map((item) => item.timeoutMs))).toEqual([
      [1000, 1000, 1000],
      [1500, 1500, 1500],
      [2250, 2250, 2250],
    ]);
    expect(udp.fanOuts[0]!.map((item) => item.target)).toEqual(servers);
    expect(result.statuses).toEqual(['timeout', 'timeout', 'timeout']);
    expect(result.servers.map((server) => [server.attempts, server.errorCode, server.latencyMs])).toEqual(
      Array(3).fill([3, 'UDP_TIMEOUT', 2250]),
    );
    await client.close();
    expect(udp.closed).toBe(false);
  });

  it('deadlineMs ends the whole call: what is still out is a timeout, and no retry starts after it', async () => {
    const udp = silentTransport();
    const client = createRaidaClient({ servers, udp, attemptTimeoutMs: 1000, deadlineMs: 2000 });
    let settled = false;
    const call = client.echo({ retries: 3 }).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(1999);
    expect(settled).toBe(false);
    expect(udp.fanOuts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    const result = await call;
    expect(udp.fanOuts).toHaveLength(2);
    expect(result.statuses).toEqual(['timeout', 'timeout', 'timeout']);
    const error = result.servers[0]!.error;
    expect(isXError(error, 'RAIDA_DEADLINE')).toBe(true);
    // The context is typed through the ErrorContexts registry: no cast.
    if (isXError(error, 'RAIDA_DEADLINE')) expect(error.context.deadlineMs).toBe(2000);
    expect(result.servers.map((server) => server.attempts)).toEqual([2, 2, 2]);
    expect(vi.getTimerCount()).toBe(0);
    await client.close();
  });

  it('a call deadlineMs shorter than the attempt cuts the first attempt short', async () => {
    const udp = silentTransport();
    const client = createRaidaClient({ servers, udp, attemptTimeoutMs: 3000 });
    const call = client.echo({ deadlineMs: 500 });
    await vi.advanceTimersByTimeAsync(500);
    const result = await call;
    expect(result.servers.map((server) => server.errorCode)).toEqual(['RAIDA_DEADLINE', 'RAIDA_DEADLINE', 'RAIDA_DEADLINE']);
    expect(result.totals).toMatchObject({ timeout: 3, consensus: false });
    expect(vi.getTimerCount()).toBe(0);
    await client.close();
  });
});

describe('the healer takes the same injected transport and timing words', () => {
  it('sends one attempt per server, cut to the deadline when that is shorter, and leaves the transport open', async () => {
    const udp = silentTransport();
    const healer = createRaidaHealer({ servers, udp, attemptTimeoutMs: 3000, deadlineMs: 500 });
    const [coin] = createTestCoins(1, 7);
    const call = healer.getTickets([coin!]);
    await vi.advanceTimersByTimeAsync(500);
    const result = await call;
    expect(udp.fanOuts.map((items) => items.map((item) => item.timeoutMs))).toEqual([[500, 500, 500]]);
    expect(result.statuses).toEqual(['timeout', 'timeout', 'timeout']);
    await healer.close();
    expect(udp.closed).toBe(false);
  });
});

describe('renamed and injected options', () => {
  function thrown(action: () => unknown): unknown {
    try {
      action();
    } catch (error) {
      return error;
    }
    throw new Error('expected a throw');
  }

  it('refuses the old timeoutMs, UDP options in place of a client, and a bad deadline, naming the option', async () => {
    const old = thrown(() => createRaidaClient({ servers, timeoutMs: 1000 } as never));
    expect(isXError(old, 'RAIDA_CLIENT_INVALID_OPTIONS') && old.context.option).toBe('timeoutMs');
    expect((old as Error).message).toMatch(/timeoutMs was renamed attemptTimeoutMs/);
    const udp = thrown(() => createRaidaClient({ servers, udp: { timeoutMs: 10 } as never }));
    expect(isXError(udp, 'RAIDA_CLIENT_INVALID_OPTIONS') && udp.context.option).toBe('udp');
    const deadline = thrown(() => createRaidaClient({ servers, deadlineMs: 0 }));
    expect(isXError(deadline, 'RAIDA_CLIENT_INVALID_OPTIONS') && deadline.context).toEqual({ option: 'deadlineMs', received: '0' });
    const client = createRaidaClient({ servers, udp: silentTransport() });
    await expect(client.echo({ timeoutMs: 5 } as never)).rejects.toMatchObject({
      code: 'RAIDA_CLIENT_INVALID_OPTIONS',
      context: { option: 'timeoutMs' },
    });
    await client.close();
  });
});
