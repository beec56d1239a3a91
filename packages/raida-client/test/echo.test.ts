import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createRaidaClient } from '@x/raida-client';
import type { RaidaReplyEvent, RaidaServerResult } from '@x/raida-client';
import { SPOOFED_EXECUTION_TIME_US } from '@x/testkit';
import { createUdpClient } from '@x/udp-transport';
import { clientFor, closeAll, cluster, handlesSettled, received, udpHandles } from './helpers.js';

afterEach(closeAll);

describe('echo against a simulated RAIDA', () => {
  it('reports every status category, each with its detail', async () => {
    const raida = await cluster({
      behaviors: {
        1: { down: true },
        2: { wrongSignature: true },
        3: { spoof: 'only' },
        4: { spoof: 'before-real' },
        5: { statusOverride: 37 },
        7: { statusOverride: 3 },
      },
    });
    // Server 6 gets a name that does not resolve: a network error before anything is sent.
    const servers = raida.servers.map((server) => (server.id === 6 ? { ...server, host: 'raida-6.invalid' } : server));
    // The transport is injected: one whose resolver fails for that name.
    const udp = createUdpClient({
      lookup: () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND raida-6.invalid'), { code: 'ENOTFOUND' })),
    });
    onTestFinished(() => udp.close());
    const client = clientFor(raida, {
      servers,
      attemptTimeoutMs: 500,
      udp,
    });

    const result = await client.echo();

    const expected = Array.from({ length: 25 }, () => 'ready');
    expected[1] = 'timeout';
    expected[2] = 'protocol-error';
    expected[3] = 'timeout';
    expected[5] = 'server-error';
    expected[6] = 'network-error';
    expected[7] = 'server-error';
    expect(result.command).toBe('echo');
    expect(result.statuses).toEqual(expected);
    expect(result.latencies).toHaveLength(25);

    const [down, forged, spoofOnly, spoofFirst, badCrc, unresolved, wrongId] = [1, 2, 3, 4, 5, 6, 7].map((i) => result.servers[i]!) as [
      RaidaServerResult,
      RaidaServerResult,
      RaidaServerResult,
      RaidaServerResult,
      RaidaServerResult,
      RaidaServerResult,
      RaidaServerResult,
    ];
    expect(down).toMatchObject({
      id: 1,
      status: 'timeout',
      errorCategory: 'timeout',
      errorCode: 'UDP_TIMEOUT',
      latencyMs: 500,
      attempts: 1,
    });
    expect(forged).toMatchObject({ status: 'protocol-error', errorCategory: 'protocol', errorCode: 'RAIDA_REPLY_SIGNATURE_MISMATCH' });
    // A reply from the wrong port is never accepted: the server stays silent as far as the client knows.
    expect(spoofOnly).toMatchObject({ status: 'timeout', errorCode: 'UDP_TIMEOUT', latencyMs: 500 });
    expect(raida.stats(3).spoofed).toBe(1);
    // The forged copy arrived first; the accepted reply is the real one.
    expect(spoofFirst.status).toBe('ready');
    expect(spoofFirst.executionTimeUs).not.toBe(SPOOFED_EXECUTION_TIME_US);
    expect(badCrc).toMatchObject({
      status: 'server-error',
      statusCode: 37,
      statusName: 'invalidCrc',
      errorCategory: 'server',
      errorCode: 'RAIDA_SERVER_ERROR',
    });
    expect(badCrc.message).toContain('37');
    expect(unresolved).toMatchObject({
      status: 'network-error',
      errorCategory: 'network',
      errorCode: 'UDP_RESOLVE_FAILED',
      address: 'raida-6.invalid:' + raida.servers[6]!.port,
    });
    expect(wrongId).toMatchObject({ status: 'server-error', statusCode: 3, statusName: 'invalidRaidaId' });

    const ready = result.servers[0]!;
    expect(ready).toMatchObject({ id: 0, status: 'ready', statusCode: 250, statusName: 'success', attempts: 1 });
    expect(ready.address).toBe(`127.0.0.1:${raida.servers[0]!.port}`);
    expect(ready.errorCode).toBeUndefined();
    expect(typeof ready.executionTimeUs).toBe('number');

    expect(result.totals).toEqual({
      ready: 19,
      pass: 0,
      fail: 0,
      mixed: 0,
      timeout: 2,
      'network-error': 1,
      'protocol-error': 1,
      'server-error': 2,
      skipped: 0,
      replied: 21,
      consensus: true,
      quorum: 13,
    });
    // Fastest and slowest are chosen among valid replies only.
    const repliedIds = result.servers.filter((s) => ['ready', 'server-error'].includes(s.status)).map((s) => s.id);
    expect(repliedIds).toContain(result.fastest!.id);
    expect(repliedIds).toContain(result.slowest!.id);
    expect(result.fastest!.latencyMs).toBeLessThanOrEqual(result.slowest!.latencyMs);
    expect(result.latencies[result.slowest!.index]).toBe(result.slowest!.latencyMs);
  });

  it('sends each server one request with its own RAIDA id, all before any reply', async () => {
    const raida = await cluster();
    const result = await clientFor(raida, { attemptTimeoutMs: 2000 }).echo();
    // A request carrying another server's id would be answered with status 3.
    expect(result.statuses.every((status) => status === 'ready')).toBe(true);
    expect(received(raida)).toEqual(Array.from({ length: 25 }, () => 1));
  });

  it('lets a silent server time out without holding up the others', async () => {
    const raida = await cluster({ behaviors: { 11: { down: true } } });
    const events: RaidaReplyEvent[] = [];
    const result = await clientFor(raida, { attemptTimeoutMs: 500 }).echo({ onReply: (event) => events.push(event) });

    expect(result.statuses[11]).toBe('timeout');
    expect(result.latencies[11]).toBe(500);
    expect(result.totals.ready).toBe(24);
    // Every other server's answer was reported before the silent one gave up.
    expect(events).toHaveLength(25);
    expect(events.slice(0, 24).every((event) => event.index !== 11 && event.server.status === 'ready')).toBe(true);
    expect(events[24]).toMatchObject({ index: 11, attempt: 0, final: true, completed: 25, total: 25 });
    expect(events.map((event) => event.completed)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('reports no consensus when fewer than 13 servers are ready', async () => {
    const behaviors = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [i * 2, { down: true }]));
    const raida = await cluster({ behaviors });
    const result = await clientFor(raida, { attemptTimeoutMs: 300 }).echo();
    expect(result.totals.ready).toBe(12);
    expect(result.totals.timeout).toBe(13);
    expect(result.totals.consensus).toBe(false);
  });

  it('retries only the servers that timed out, with a timeout ×1.5 per retry', async () => {
    const raida = await cluster({ behaviors: { 8: { down: true }, 9: { down: true } } });
    const events: RaidaReplyEvent[] = [];
    const result = await clientFor(raida, { attemptTimeoutMs: 200 }).echo({
      retries: 2,
      onReply(event) {
        events.push(event);
        // Server 9 comes back up after its first timeout: its retry is answered.
        if (event.index === 9 && event.attempt === 0) raida.setBehavior(9, { down: false });
      },
    });

    const counts = received(raida);
    expect(counts[8]).toBe(3);
    expect(counts[9]).toBe(2);
    expect(counts.filter((_, id) => id !== 8 && id !== 9).every((n) => n === 1)).toBe(true);

    expect(result.servers[8]).toMatchObject({ status: 'timeout', attempts: 3, latencyMs: 450 });
    expect(result.servers[9]).toMatchObject({ status: 'ready', attempts: 2 });
    expect(result.servers[0]!.attempts).toBe(1);
    const of8 = events.filter((event) => event.index === 8).map((event) => [event.attempt, event.final, event.server.latencyMs]);
    expect(of8).toEqual([
      [0, false, 200],
      [1, false, 300],
      [2, true, 450],
    ]);
    expect(events.at(-1)!.completed).toBe(25);
  });

  it('never takes a late reply to an earlier call for the answer to the next one', async () => {
    const raida = await cluster({ behaviors: { 5: { slowMs: 300 } } });
    const udp = createUdpClient();
    const client = clientFor(raida, { udp });
    const first = await client.echo({ attemptTimeoutMs: 100 });
    expect(first.statuses[5]).toBe('timeout');
    // The second call reuses the first call's pooled socket, so the first call's reply from server 5
    // reaches it while it waits for its own. That reply fails this request's signature check and is
    // turned away; being a genuine reply to the earlier request, it is not held against server 5 either:
    // server 5 simply times out (its own reply comes 300 ms after the request, past the 250 ms timeout).
    const second = await client.echo({ attemptTimeoutMs: 250 });
    expect(second.statuses[5]).toBe('timeout');
    expect(second.servers[5]).toMatchObject({ errorCode: 'UDP_TIMEOUT', latencyMs: 250 });
    expect(second.totals.ready).toBe(24);
    // One socket served both calls: sockets are pooled again (forgery.test.ts replays this race deterministically).
    expect(udp.stats().openSockets).toBe(1);
    await client.close();
    await udp.close();
  });

  it('does not retry a server that answered, even with an error', async () => {
    const raida = await cluster({ behaviors: { 2: { wrongSignature: true }, 5: { statusOverride: 37 } } });
    const result = await clientFor(raida, { attemptTimeoutMs: 300 }).echo({ retries: 3 });
    expect(result.statuses[2]).toBe('protocol-error');
    expect(result.statuses[5]).toBe('server-error');
    expect(received(raida).every((n) => n === 1)).toBe(true);
  });
});

describe('version', () => {
  it('reports each server’s version string', async () => {
    const raida = await cluster({ behaviors: { 4: { version: '20260101-beta' } } });
    const result = await clientFor(raida, { attemptTimeoutMs: 2000 }).version();
    expect(result.command).toBe('version');
    expect(result.statuses.every((status) => status === 'ready')).toBe(true);
    expect(result.servers[0]!.version).toBe('20250323');
    expect(result.servers[4]!.version).toBe('20260101-beta');
    expect(result.totals.consensus).toBe(true);
  });
});

describe('cancellation and cleanup', () => {
  it('rejects at once with ABORTED for an already-aborted signal, sending nothing', async () => {
    const raida = await cluster();
    const controller = new AbortController();
    controller.abort('user went away');
    const error: unknown = await clientFor(raida)
      .echo({ signal: controller.signal })
      .catch((e: unknown) => e);
    expect(isXError(error, 'ABORTED')).toBe(true);
    expect(received(raida).every((n) => n === 0)).toBe(true);
  });

  it('stops waiting when the signal aborts mid-call, and the client stays usable', async () => {
    const raida = await cluster({ behaviors: { 0: { down: true } } });
    const client = clientFor(raida, { attemptTimeoutMs: 60_000 });
    const controller = new AbortController();
    let replies = 0;
    const call = client.echo({
      signal: controller.signal,
      onReply: () => {
        if (++replies === 24) controller.abort();
      },
    });
    const error: unknown = await call.catch((e: unknown) => e);
    expect(isXError(error, 'ABORTED')).toBe(true);
    raida.setBehavior(0, { down: false });
    const again = await client.echo({ attemptTimeoutMs: 2000 });
    expect(again.totals.ready).toBe(25);
  });

  it('close() settles calls in flight with RAIDA_CLIENT_CLOSED and releases every socket', async () => {
    const raida = await cluster({ behaviors: { 0: { down: true } } });
    const before = udpHandles();
    const client = createRaidaClient({ servers: raida.servers, attemptTimeoutMs: 60_000 });
    let closing: Promise<void> | undefined;
    const call = client.echo({
      onReply: (event) => {
        if (event.completed === 24) closing = client.close();
      },
    });
    const error: unknown = await call.catch((e: unknown) => e);
    expect(isXError(error, 'RAIDA_CLIENT_CLOSED')).toBe(true);
    await closing;
    expect(client.close()).toBe(closing);
    const after: unknown = await client.echo().catch((e: unknown) => e);
    expect(isXError(after, 'RAIDA_CLIENT_CLOSED')).toBe(true);
    await handlesSettled();
    expect(udpHandles()).toBe(before);
  });

  it('ignores an onReply callback that throws', async () => {
    const raida = await cluster();
    const result = await clientFor(raida, { attemptTimeoutMs: 2000 }).echo({
      onReply: () => {
        throw new Error('progress bar broke');
      },
    });
    expect(result.totals.ready).toBe(25);
  });
});

describe('the deadline', () => {
  it('(fake clock) a reply handled after its timeout is a timeout at exactly the timeout, never a success', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const raida = await cluster();
      const client = clientFor(raida, { attemptTimeoutMs: 7 });
      // The replies cannot be read before this test yields: the clock passes every deadline first.
      const pending = client.echo();
      vi.advanceTimersByTime(8.3);
      const result = await pending;
      expect(result.statuses.every((status) => status === 'timeout')).toBe(true);
      expect(result.latencies.every((latency) => latency === 7)).toBe(true);
      expect(result.totals).toMatchObject({ ready: 0, timeout: 25, consensus: false });
    } finally {
      vi.useRealTimers();
    }
  });
});
