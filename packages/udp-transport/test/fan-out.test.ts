import { afterEach, describe, expect, it, vi } from 'vitest';
import { getEventListeners } from 'node:events';
import { createUdpClient } from '@x/udp-transport';
import type { UdpClient, UdpFanOutItem, UdpOutcome } from '@x/udp-transport';
import {
  bytes,
  closeServers,
  startBigReplier,
  startDoubleEcho,
  startEcho,
  startServer,
  startSilent,
  startSpoofer,
  text,
  until,
} from './helpers.js';

let client: UdpClient | undefined;

function newClient(...args: Parameters<typeof createUdpClient>): UdpClient {
  client = createUdpClient(...args);
  return client;
}

afterEach(async () => {
  vi.useRealTimers();
  await client?.close();
  client = undefined;
  await closeServers();
});

function values(outcomes: readonly UdpOutcome[]): Array<string | undefined> {
  return outcomes.map((outcome) => (outcome.ok ? text(outcome.value) : undefined));
}

describe('fanOut: order and correlation', () => {
  it('returns one outcome per item in input order, each with its own reply, whatever order replies arrive in', async () => {
    // Delays decrease along the input, so replies arrive roughly in reverse order.
    const servers = await Promise.all(Array.from({ length: 25 }, (_, i) => startEcho({ delayMs: (24 - i) * 2 })));
    const udp = newClient();
    const items = servers.map((server, i) => ({ target: server.target, payload: bytes(`request ${i}`) }));
    const settledOrder: number[] = [];

    const outcomes = await udp.fanOut(items, { onOutcome: (_outcome, index) => settledOrder.push(index) });

    expect(values(outcomes)).toEqual(items.map((_, i) => `request ${i}`));
    outcomes.forEach((outcome, i) => {
      expect(outcome.target).toBe(items[i]!.target);
      expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    });
    expect([...settledOrder].sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    // Each server saw exactly its own datagram, all of them from one socket.
    servers.forEach((server, i) => expect(server.received.map((r) => text(r.payload))).toEqual([`request ${i}`]));
    expect(new Set(servers.map((server) => server.received[0]!.from.port)).size).toBe(1);
    expect(udp.stats()).toMatchObject({ sent: 25, received: 25, inFlight: 0, openSockets: 1, timeouts: 0 });
  });

  it('resolves an empty fan-out at once with no outcomes and opens no socket', async () => {
    const udp = newClient();
    await expect(udp.fanOut([])).resolves.toEqual([]);
    expect(udp.stats().openSockets).toBe(0);
  });

  it('sends every datagram before any reply is awaited', async () => {
    const servers = await Promise.all([startSilent(), startSilent(), startSilent()]);
    const udp = newClient();
    const pending = udp.fanOut(
      servers.map((s) => ({ target: s.target, payload: bytes('x') })),
      { timeoutMs: 10_000 },
    );
    await until(() => servers.every((s) => s.received.length === 1));
    expect(udp.stats()).toMatchObject({ sent: 3, inFlight: 3 });
    void udp.close();
    expect((await pending).map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['UDP_CLOSED', 'UDP_CLOSED', 'UDP_CLOSED']);
  });

  it('uses separate sockets for two items to the same target and matches each reply to its own datagram', async () => {
    const echo = await startEcho();
    const udp = newClient();
    const outcomes = await udp.fanOut([
      { target: echo.target, payload: bytes('first') },
      { target: echo.target, payload: bytes('second') },
      { target: echo.target, payload: bytes('third') },
    ]);
    expect(values(outcomes)).toEqual(['first', 'second', 'third']);
    const sourcePorts = echo.received.map((r) => r.from.port);
    expect(new Set(sourcePorts).size).toBe(3);
    expect(udp.stats().openSockets).toBe(3);
  });

  it('never lets concurrent calls to the same target share a socket', async () => {
    const echo = await startEcho({ delayMs: 5 });
    const udp = newClient();
    const replies = await Promise.all([
      udp.request(echo.target, bytes('one')),
      udp.request(echo.target, bytes('two')),
      udp.fanOut([{ target: echo.target, payload: bytes('three') }]),
    ]);
    expect([text(replies[0].value), text(replies[1].value), values(replies[2])[0]]).toEqual(['one', 'two', 'three']);
    expect(new Set(echo.received.map((r) => r.from.port)).size).toBe(3);
  });

  it('reuses its pooled socket for the next fan-out', async () => {
    const echo = await startEcho();
    const udp = newClient();
    await udp.fanOut([{ target: echo.target, payload: bytes('a') }]);
    await udp.fanOut([{ target: echo.target, payload: bytes('b') }]);
    expect(echo.received[0]!.from.port).toBe(echo.received[1]!.from.port);
    expect(udp.stats().openSockets).toBe(1);
  });

  it('keeps at most maxIdleSockets idle sockets per family once the burst is over', async () => {
    const echo = await startEcho();
    const udp = newClient({ maxIdleSockets: 1 });
    const items = Array.from({ length: 4 }, (_, i) => ({ target: echo.target, payload: bytes(`${i}`) }));
    const outcomes = await udp.fanOut(items);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(new Set(echo.received.map((r) => r.from.port)).size).toBe(4);
    expect(udp.stats().openSockets).toBe(1);
  });

  it('calls onOutcome once per item and ignores an exception it throws', async () => {
    const [a, b] = await Promise.all([startEcho(), startEcho()]);
    const udp = newClient();
    const seen: number[] = [];
    const outcomes = await udp.fanOut(
      [
        { target: a.target, payload: bytes('a') },
        { target: b.target, payload: bytes('b') },
      ],
      {
        onOutcome: (outcome, index) => {
          seen.push(index);
          expect(outcome.ok).toBe(true);
          throw new Error('a buggy progress display');
        },
      },
    );
    expect(values(outcomes)).toEqual(['a', 'b']);
    expect(seen.sort()).toEqual([0, 1]);
    expect(udp.stats().inFlight).toBe(0);
  });
});

describe('fanOut: independent timeouts', () => {
  it('times out a silent target at its own timeout while the others succeed with their payloads', async () => {
    const [fast, slow, silent] = await Promise.all([startEcho(), startEcho({ delayMs: 30 }), startSilent()]);
    const udp = newClient();
    const outcomes = await udp.fanOut([
      { target: fast.target, payload: bytes('fast') },
      { target: silent.target, payload: bytes('nobody'), timeoutMs: 40 },
      { target: slow.target, payload: bytes('slow') },
    ]);
    expect(values(outcomes)).toEqual(['fast', undefined, 'slow']);
    const timedOut = outcomes[1]!;
    expect(timedOut.ok).toBe(false);
    if (!timedOut.ok) {
      expect(timedOut.error.code).toBe('UDP_TIMEOUT');
      expect(timedOut.error.category).toBe('timeout');
      expect(timedOut.error.context).toMatchObject({ host: '127.0.0.1', port: silent.target.port, timeoutMs: 40 });
      expect(timedOut.latencyMs).toBe(40);
    }
    expect(udp.stats()).toMatchObject({ timeouts: 1, received: 2, inFlight: 0 });
  });

  it("(fake clock) a silent target's timeout does not touch the others' latencies", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const echoes = await Promise.all([startEcho(), startEcho(), startEcho()]);
    const silent = await startSilent();
    const udp = newClient({ timeoutMs: 1000 });
    const items: UdpFanOutItem[] = [
      ...echoes.map((echo, i) => ({ target: echo.target, payload: bytes(`echo ${i}`) })),
      { target: silent.target, payload: bytes('silent') },
    ];
    const early: UdpOutcome[] = [];
    const pending = udp.fanOut(items, { onOutcome: (outcome) => early.push(outcome) });

    // Real replies arrive while the fake clock stands still: their latency is what the clock says.
    await until(() => early.length === 3);
    expect(early.map((o) => [o.ok, o.latencyMs])).toEqual([
      [true, 0],
      [true, 0],
      [true, 0],
    ]);
    vi.advanceTimersByTime(999);
    expect(udp.stats().inFlight).toBe(1);
    vi.advanceTimersByTime(1);
    const outcomes = await pending;
    expect(values(outcomes)).toEqual(['echo 0', 'echo 1', 'echo 2', undefined]);
    expect(outcomes[3]).toMatchObject({ ok: false, latencyMs: 1000, error: { code: 'UDP_TIMEOUT' } });
  });

  it('(fake clock) a fan-out answered in full leaves no timer behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const echo = await startEcho();
    const udp = newClient();
    const pending = udp.fanOut([{ target: echo.target, payload: bytes('x') }]);
    expect(vi.getTimerCount()).toBe(1);
    expect(values(await pending)).toEqual(['x']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('(fake clock) per-item timeouts expire one by one, each at its own time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const silents = await Promise.all([startSilent(), startSilent(), startSilent()]);
    const udp = newClient();
    const settled: Array<[number, number]> = [];
    const pending = udp.fanOut(
      [
        { target: silents[0].target, payload: bytes('a'), timeoutMs: 300 },
        { target: silents[1].target, payload: bytes('b'), timeoutMs: 100 },
        { target: silents[2].target, payload: bytes('c') },
      ],
      { timeoutMs: 200, onOutcome: (outcome, index) => settled.push([index, outcome.latencyMs]) },
    );
    vi.advanceTimersByTime(99);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(settled).toEqual([[1, 100]]);
    vi.advanceTimersByTime(100);
    expect(settled).toEqual([
      [1, 100],
      [2, 200],
    ]);
    vi.advanceTimersByTime(100);
    const outcomes = await pending;
    expect(outcomes.map((o) => (o.ok ? 'ok' : `${o.error.code} ${o.latencyMs}`))).toEqual([
      'UDP_TIMEOUT 300',
      'UDP_TIMEOUT 100',
      'UDP_TIMEOUT 200',
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('fanOut: what is accepted as a reply', () => {
  it('ignores a reply from another port of the same host sent first, and accepts the real one', async () => {
    const { server } = await startSpoofer(bytes('forged'));
    const udp = newClient();
    const outcomes = await udp.fanOut([{ target: server.target, payload: bytes('genuine') }]);
    expect(values(outcomes)).toEqual(['genuine']);
    expect(udp.stats()).toMatchObject({ droppedSpoofed: 1, received: 1 });
  });

  it('ignores a reply from another host on the same port (IPv4 127.0.0.1 vs the IPv6 target ::1)', async () => {
    // The client's IPv6 socket is dual-stack, so a datagram from 127.0.0.1 reaches it as ::ffff:127.0.0.1.
    const real = await startServer((payload, from, tools) => {
      impostor.socket.send(bytes('forged'), from.port, '127.0.0.1', () => tools.socket.send(payload, from.port, from.address));
    }, '::1');
    const impostor = await startServer(() => undefined, '127.0.0.1', real.target.port);
    expect(impostor.target.port).toBe(real.target.port);
    const udp = newClient();
    const outcomes = await udp.fanOut([{ target: real.target, payload: bytes('genuine') }]);
    expect(values(outcomes)).toEqual(['genuine']);
    expect(udp.stats()).toMatchObject({ droppedSpoofed: 1, received: 1 });
  });

  it('drops and counts a duplicate that arrives after the item settled', async () => {
    const echo = await startDoubleEcho();
    const udp = newClient();
    const outcomes = await udp.fanOut([{ target: echo.target, payload: bytes('once') }]);
    expect(values(outcomes)).toEqual(['once']);
    await until(() => udp.stats().droppedLate === 1);
    expect(udp.stats()).toMatchObject({ received: 1, droppedLate: 1, droppedSpoofed: 0 });
  });

  it('drops a reply larger than maxReplyBytes, so the item times out', async () => {
    const big = await startBigReplier(101);
    const udp = newClient({ maxReplyBytes: 100 });
    const outcomes = await udp.fanOut([{ target: big.target, payload: bytes('x'), timeoutMs: 50 }]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'UDP_TIMEOUT', category: 'timeout' } });
    expect(udp.stats()).toMatchObject({ droppedOversize: 1, received: 0, timeouts: 1 });
  });

  it('accepts a reply of exactly maxReplyBytes', async () => {
    const big = await startBigReplier(100);
    const udp = newClient({ maxReplyBytes: 100 });
    const [outcome] = await udp.fanOut([{ target: big.target, payload: bytes('x') }]);
    expect(outcome!.ok && outcome!.value.byteLength).toBe(100);
  });
});

describe('fanOut: abort', () => {
  it('settles every pending item as aborted at once, keeps the replies already in, and frees the socket', async () => {
    const [echoA, echoB, silentA, silentB] = await Promise.all([startEcho(), startEcho(), startSilent(), startSilent()]);
    const udp = newClient();
    const controller = new AbortController();
    let replies = 0;
    const pending = udp.fanOut(
      [echoA, silentA, echoB, silentB].map((server, i) => ({ target: server.target, payload: bytes(`p${i}`) })),
      { signal: controller.signal, onOutcome: (outcome) => (replies += outcome.ok ? 1 : 0) },
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await until(() => replies === 2);
    controller.abort(new Error('user cancelled'));
    // Synchronously: nothing is pending any more.
    expect(udp.stats()).toMatchObject({ inFlight: 0, aborted: 2 });
    const outcomes = await pending;
    expect(values(outcomes)).toEqual(['p0', undefined, 'p2', undefined]);
    for (const outcome of [outcomes[1]!, outcomes[3]!]) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(outcome.error.code).toBe('ABORTED');
        expect(outcome.error.category).toBe('aborted');
        expect(outcome.error.message).toContain('user cancelled');
        expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
      }
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The socket is free again: the same targets can be asked at once, from the same socket.
    const again = await udp.fanOut([{ target: echoA.target, payload: bytes('again') }]);
    expect(values(again)).toEqual(['again']);
    expect(udp.stats().openSockets).toBe(1);
  });

  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    const echo = await startEcho();
    const udp = newClient();
    const error = await udp
      .fanOut([{ target: echo.target, payload: bytes('x') }], { signal: AbortSignal.abort('too late') })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ABORTED', category: 'aborted' });
    expect(udp.stats()).toMatchObject({ sent: 0, openSockets: 0 });
  });

  it('removes its abort listener when the fan-out completes normally', async () => {
    const echo = await startEcho();
    const udp = newClient();
    const controller = new AbortController();
    await udp.fanOut([{ target: echo.target, payload: bytes('x') }], { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    expect(udp.stats().aborted).toBe(0);
  });
});
