import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createUdpClient } from '@x/udp-transport';
import type { UdpClient, UdpFanOutItem } from '@x/udp-transport';
import { bytes, closeServers, startEcho, startSilent, text } from './helpers.js';

let client: UdpClient | undefined;

function newClient(...args: Parameters<typeof createUdpClient>): UdpClient {
  client = createUdpClient(...args);
  return client;
}

afterEach(async () => {
  await client?.close();
  client = undefined;
  await closeServers();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('request', () => {
  it('resolves with the reply, its latency and the target', async () => {
    const echo = await startEcho();
    const udp = newClient();
    const reply = await udp.request(echo.target, bytes('ping'));
    expect(reply.ok).toBe(true);
    expect(text(reply.value)).toBe('ping');
    expect(reply.value).toBeInstanceOf(Uint8Array);
    expect(reply.latencyMs).toBeGreaterThanOrEqual(0);
    expect(reply.target).toBe(echo.target);
  });

  it('rejects with UDP_TIMEOUT after its timeout', async () => {
    const silent = await startSilent();
    const udp = newClient();
    const error = await rejection(udp.request(silent.target, bytes('ping'), { timeoutMs: 20 }));
    expect(error).toMatchObject({ code: 'UDP_TIMEOUT', category: 'timeout', context: { timeoutMs: 20 } });
    expect(udp.stats()).toMatchObject({ timeouts: 1, inFlight: 0 });
  });

  it('rejects with ABORTED when its signal aborts, and at once for an aborted signal', async () => {
    const silent = await startSilent();
    const udp = newClient();
    const controller = new AbortController();
    const pending = rejection(udp.request(silent.target, bytes('ping'), { signal: controller.signal }));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ABORTED', category: 'aborted' });
    expect(await rejection(udp.request(silent.target, bytes('x'), { signal: controller.signal }))).toMatchObject({
      code: 'ABORTED',
    });
  });
});

describe('bad input is refused with a clear error and nothing is sent', () => {
  const target = { host: '127.0.0.1', port: 9 };

  it.each([
    ['a port of 0', [{ target: { host: '127.0.0.1', port: 0 }, payload: bytes('x') }], /port must be an integer from 1 to 65535/],
    ['a port over 65535', [{ target: { host: '127.0.0.1', port: 65_536 }, payload: bytes('x') }], /port/],
    ['a fractional port', [{ target: { host: '127.0.0.1', port: 80.5 }, payload: bytes('x') }], /port/],
    ['an empty host', [{ target: { host: '', port: 9 }, payload: bytes('x') }], /host must be a non-empty string/],
    ['no target', [{ payload: bytes('x') }], /target must be an object/],
    ['a string payload', [{ target, payload: 'x' }], /payload must be a Uint8Array/],
    [
      'a zero timeout',
      [{ target, payload: bytes('x'), timeoutMs: 0 }],
      /timeoutMs must be a number of milliseconds in \(0, 2147483647\], got 0/,
    ],
    ['an infinite timeout', [{ target, payload: bytes('x'), timeoutMs: Infinity }], /timeoutMs/],
    ['a NaN timeout', [{ target, payload: bytes('x'), timeoutMs: Number.NaN }], /timeoutMs/],
    ['a null item', [null], /each item must be an object/],
  ])('%s', async (_name, items, message) => {
    const udp = newClient();
    const good = { target, payload: bytes('fine') };
    const error = await rejection(udp.fanOut([good, ...(items as UdpFanOutItem[])]));
    expect(isXError(error, 'UDP_INVALID_REQUEST')).toBe(true);
    expect(error).toMatchObject({ category: 'config', context: { index: 1 } });
    expect((error as Error).message).toMatch(message);
    expect(udp.stats()).toMatchObject({ sent: 0, openSockets: 0, inFlight: 0 });
  });

  it('refuses items that are not an array and call options that are invalid', async () => {
    const udp = newClient();
    const item = { target, payload: bytes('x') };
    await expect(udp.fanOut('nope' as never)).rejects.toMatchObject({ code: 'UDP_INVALID_REQUEST' });
    await expect(udp.fanOut([item], { timeoutMs: -1 })).rejects.toMatchObject({ code: 'UDP_INVALID_REQUEST' });
    await expect(udp.fanOut([item], { signal: {} as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
    await expect(udp.fanOut([item], { onOutcome: 1 as never })).rejects.toThrow(/onOutcome must be a function/);
    await expect(udp.request(target, bytes('x'), 5 as never)).rejects.toThrow(/options must be an object/);
    await expect(udp.request({ host: 'h', port: -1 }, bytes('x'))).rejects.toMatchObject({
      code: 'UDP_INVALID_REQUEST',
      context: { option: 'target.port', received: '-1' },
    });
    expect(udp.stats().sent).toBe(0);
  });

  it('refuses a payload over maxRequestBytes before sending anything, and accepts one at the limit', async () => {
    const echo = await startEcho();
    const udp = newClient({ maxRequestBytes: 100 });
    const error = await rejection(
      udp.fanOut([
        { target: echo.target, payload: new Uint8Array(100) },
        { target: echo.target, payload: new Uint8Array(101) },
      ]),
    );
    expect(error).toMatchObject({
      code: 'UDP_REQUEST_TOO_LARGE',
      category: 'config',
      context: { bytes: 101, maxRequestBytes: 100, index: 1, port: echo.target.port },
    });
    expect(echo.received).toHaveLength(0);
    expect(udp.stats()).toMatchObject({ sent: 0, openSockets: 0 });
    const reply = await udp.request(echo.target, new Uint8Array(100));
    expect(reply.value.byteLength).toBe(100);
  });

  it.each([
    [{ timeoutMs: 0 }, /timeoutMs/],
    [{ timeoutMs: 2 ** 31 }, /timeoutMs/],
    [{ maxRequestBytes: 65_536 }, /maxRequestBytes must be an integer from 0 to 65535/],
    [{ maxReplyBytes: -1 }, /maxReplyBytes/],
    [{ maxIdleSockets: 1.5 }, /maxIdleSockets/],
    [{ bindAddress: { ipv4: '::1' } }, /bindAddress.ipv4 must be an IPv4 address/],
    [{ bindAddress: { ipv6: 'localhost' } }, /bindAddress.ipv6 must be an IPv6 address/],
    [{ lookup: 'dns' }, /lookup must be a function/],
  ])('createUdpClient(%o) throws UDP_INVALID_OPTIONS', (options, message) => {
    let thrown: unknown;
    try {
      createUdpClient(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(isXError(thrown, 'UDP_INVALID_OPTIONS')).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });

  it('names the option at fault in a typed context (the one key `option`, as every @x package)', () => {
    let thrown: unknown;
    try {
      createUdpClient({ maxIdleSockets: 1.5 });
    } catch (error) {
      thrown = error;
    }
    if (!isXError(thrown, 'UDP_INVALID_OPTIONS')) throw new Error('expected UDP_INVALID_OPTIONS');
    // `context` is typed by the ErrorContexts registry: no cast needed.
    expect(thrown.context.option).toBe('maxIdleSockets');
    expect(thrown.context.received).toBe('1.5');
  });
});

describe('close', () => {
  it('settles pending items with UDP_CLOSED, closes every socket and refuses later calls', async () => {
    const [silent, echo] = await Promise.all([startSilent(), startEcho()]);
    const udp = newClient();
    const pending = udp.fanOut([
      { target: silent.target, payload: bytes('a') },
      { target: silent.target, payload: bytes('b') },
    ]);
    expect(udp.stats()).toMatchObject({ inFlight: 2, openSockets: 2 });
    await udp.close();
    const outcomes = await pending;
    expect(outcomes.map((o) => !o.ok && o.error.code)).toEqual(['UDP_CLOSED', 'UDP_CLOSED']);
    expect(outcomes.map((o) => !o.ok && o.error.category)).toEqual(['aborted', 'aborted']);
    expect(udp.stats()).toMatchObject({ inFlight: 0, openSockets: 0, aborted: 2 });
    await expect(udp.request(echo.target, bytes('x'))).rejects.toMatchObject({ code: 'UDP_CLOSED' });
    await expect(udp.fanOut([])).rejects.toMatchObject({ code: 'UDP_CLOSED' });
    await expect(udp.close()).resolves.toBeUndefined();
  });

  it('can be called from inside onOutcome', async () => {
    const [echo, silent] = await Promise.all([startEcho(), startSilent()]);
    const udp = newClient();
    const outcomes = await udp.fanOut(
      [
        { target: echo.target, payload: bytes('a') },
        { target: silent.target, payload: bytes('b') },
      ],
      { onOutcome: (outcome) => void (outcome.ok && udp.close()) },
    );
    expect(outcomes.map((o) => (o.ok ? text(o.value) : o.error.code))).toEqual(['a', 'UDP_CLOSED']);
    expect(udp.stats()).toMatchObject({ inFlight: 0, openSockets: 0 });
  });
});
