import { afterEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createUdpClient } from '@x/udp-transport';
import type { UdpClient, UdpOutcome } from '@x/udp-transport';
import { bytes, closeServers, startEcho, startForger, startServer, text, until } from './helpers.js';

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

/** Accepts only the echo of `payload`, recording every datagram it was shown. */
function echoOf(payload: string, seen: string[] = []): (reply: Uint8Array) => boolean {
  return (reply) => {
    seen.push(text(reply));
    return text(reply) === payload;
  };
}

describe('accept: telling a reply from a datagram that only comes from the right address', () => {
  it('drops a rejected datagram from the target and takes the next one it accepts', async () => {
    const forger = await startForger([bytes('forged')]);
    const udp = newClient();
    const seen: string[] = [];
    const outcomes = await udp.fanOut([{ target: forger.target, payload: bytes('genuine'), accept: echoOf('genuine', seen) }]);
    expect(values(outcomes)).toEqual(['genuine']);
    expect(outcomes[0]!.target).toBe(forger.target);
    expect(seen).toEqual(['forged', 'genuine']);
    expect(udp.stats()).toMatchObject({ received: 1, droppedRejected: 1, droppedLate: 0, droppedSpoofed: 0, inFlight: 0 });
  });

  it('applies per item: an item without accept takes the first datagram, as before', async () => {
    const [guarded, unguarded] = await Promise.all([startForger([bytes('forged')]), startForger([bytes('forged')])]);
    const udp = newClient();
    const outcomes = await udp.fanOut([
      { target: guarded.target, payload: bytes('a'), accept: echoOf('a') },
      { target: unguarded.target, payload: bytes('b') },
    ]);
    expect(values(outcomes)).toEqual(['a', 'forged']);
    await until(() => udp.stats().droppedLate === 1); // the unguarded item's genuine reply, after it settled
    expect(udp.stats()).toMatchObject({ received: 2, droppedRejected: 1 });
  });

  it('treats an accept that throws, or returns anything but true, as a rejection', async () => {
    const forger = await startForger([bytes('boom'), bytes('truthy')]);
    const udp = newClient();
    const accept = (reply: Uint8Array): boolean => {
      if (text(reply) === 'boom') throw new Error('cannot parse');
      return (text(reply) === 'truthy' ? 1 : true) as boolean;
    };
    const reply = await udp.request(forger.target, bytes('genuine'), { accept });
    expect(text(reply.value)).toBe('genuine');
    expect(udp.stats()).toMatchObject({ received: 1, droppedRejected: 2 });
  });

  it('(fake clock) times out when every datagram from the target is rejected', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const forger = await startForger([bytes('forged 1'), bytes('forged 2')], false);
    const udp = newClient();
    const pending = udp.fanOut([{ target: forger.target, payload: bytes('genuine'), accept: echoOf('genuine'), timeoutMs: 500 }]);
    await until(() => udp.stats().droppedRejected === 2);
    // Rejected datagrams do not settle the item: it still waits for its own reply.
    expect(udp.stats()).toMatchObject({ inFlight: 1, received: 0 });
    vi.advanceTimersByTime(500);
    const [outcome] = await pending;
    expect(outcome).toMatchObject({ ok: false, latencyMs: 500, error: { code: 'UDP_TIMEOUT', category: 'timeout' } });
    expect(udp.stats()).toMatchObject({ timeouts: 1, received: 0, droppedRejected: 2, inFlight: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('(fake clock) request() rejects with UDP_TIMEOUT when its accept rejects everything', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const forger = await startForger([bytes('forged')], false);
    const udp = newClient();
    const pending = udp.request(forger.target, bytes('genuine'), { accept: () => false, timeoutMs: 200 }).catch((e: unknown) => e);
    await until(() => udp.stats().droppedRejected === 1);
    vi.advanceTimersByTime(200);
    const error = await pending;
    expect(isXError(error, 'UDP_TIMEOUT')).toBe(true);
  });

  it('(fake clock) a late reply to a timed-out request on a reused socket is rejected, not taken for the next one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    // Holds the first request; answers it only once the second arrives, just before answering the second.
    let held: Uint8Array | undefined;
    const slow = await startServer((payload, from, tools) => {
      if (held === undefined) {
        held = payload;
        return;
      }
      tools.socket.send(held, from.port, from.address, () => tools.socket.send(payload, from.port, from.address));
    });
    const udp = newClient();
    const first = udp.request(slow.target, bytes('one'), { accept: echoOf('one'), timeoutMs: 100 }).catch((e: unknown) => e);
    await until(() => slow.received.length === 1);
    vi.advanceTimersByTime(100);
    expect(isXError(await first, 'UDP_TIMEOUT')).toBe(true);

    const second = await udp.request(slow.target, bytes('two'), { accept: echoOf('two') });
    expect(text(second.value)).toBe('two');
    // Both requests left from the same pooled socket: the late 'one' reached the second request's slot.
    expect(slow.received[1]!.from.port).toBe(slow.received[0]!.from.port);
    expect(udp.stats()).toMatchObject({ droppedRejected: 1, received: 1, timeouts: 1, openSockets: 1 });
  });

  it('drops the datagram when accept closes the client: the item is already settled as UDP_CLOSED', async () => {
    const forger = await startForger([]);
    const udp = newClient();
    const accept = (): boolean => {
      void udp.close();
      return true;
    };
    const [outcome] = await udp.fanOut([{ target: forger.target, payload: bytes('x'), accept }]);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'UDP_CLOSED' } });
    expect(udp.stats()).toMatchObject({ received: 0, droppedLate: 1, droppedRejected: 0, inFlight: 0, openSockets: 0 });
  });

  it('refuses an accept that is not a function, sending nothing', async () => {
    const udp = newClient();
    const target = { host: '127.0.0.1', port: 9 };
    const error: unknown = await udp.fanOut([{ target, payload: bytes('x'), accept: true as never }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UDP_INVALID_REQUEST', category: 'config', context: { index: 0 } });
    expect((error as Error).message).toMatch(/accept must be a function/);
    await expect(udp.request(target, bytes('x'), { accept: 'yes' as never })).rejects.toThrow(/accept must be a function/);
    expect(udp.stats()).toMatchObject({ sent: 0, openSockets: 0 });
  });
});

describe('a reply handled after its deadline', () => {
  it('(fake clock) is a timeout with exactly the timeout as latency, never a reply slower than its timeout', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const echo = await startEcho();
    const udp = newClient();
    // The reply cannot be read before this test yields: the clock passes the deadline first.
    const late = udp.fanOut([{ target: echo.target, payload: bytes('late'), timeoutMs: 1000 }]);
    vi.advanceTimersByTime(1001);
    const [outcome] = await late;
    expect(outcome).toMatchObject({ ok: false, latencyMs: 1000, error: { code: 'UDP_TIMEOUT', category: 'timeout' } });
    expect(udp.stats()).toMatchObject({ timeouts: 1, received: 0, inFlight: 0 });

    const inTime = udp.fanOut([{ target: echo.target, payload: bytes('in time'), timeoutMs: 1000 }]);
    vi.advanceTimersByTime(1000);
    const [reply] = await inTime;
    expect(reply).toMatchObject({ ok: true, latencyMs: 1000 });
  });
});
