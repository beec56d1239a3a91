import { afterEach, describe, expect, it } from 'vitest';
import { createHook } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { lookup as dnsLookup } from 'node:dns/promises';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createUdpClient } from '@x/udp-transport';
import type { UdpClient, UdpFanOutItem, UdpOutcome } from '@x/udp-transport';
import { bytes, closeServers, handlesClosed, startEcho, startSilent, text, until } from './helpers.js';

let client: UdpClient | undefined;

function newClient(...args: Parameters<typeof createUdpClient>): UdpClient {
  client = createUdpClient(...args);
  return client;
}

afterEach(async () => {
  await client?.close();
  client = undefined;
  await closeServers();
  await handlesClosed();
});

function describeOutcomes(outcomes: readonly UdpOutcome[]): string[] {
  return outcomes.map((o) => (o.ok ? `ok ${text(o.value)}` : `${o.error.category} ${o.error.code}`));
}

function count(list: readonly string[], name: string): number {
  return list.filter((entry) => entry === name).length;
}

describe('address families and names', () => {
  it('talks IPv6 through a udp6 socket and matches replies whatever way the address was written', async () => {
    const echo = await startEcho({ address: '::1' });
    const udp = newClient();
    const outcomes = await udp.fanOut([
      { target: { host: '::1', port: echo.target.port }, payload: bytes('short form') },
      { target: { host: '0:0:0:0:0:0:0:1', port: echo.target.port }, payload: bytes('long form') },
    ]);
    expect(describeOutcomes(outcomes)).toEqual(['ok short form', 'ok long form']);
    expect(echo.received.every((r) => r.from.family === 'IPv6')).toBe(true);
  });

  it('mixes IPv4 and IPv6 targets in one fan-out, one socket per family', async () => {
    const [v4, v6] = await Promise.all([startEcho(), startEcho({ address: '::1' })]);
    const udp = newClient();
    const outcomes = await udp.fanOut([
      { target: v4.target, payload: bytes('four') },
      { target: v6.target, payload: bytes('six') },
    ]);
    expect(describeOutcomes(outcomes)).toEqual(['ok four', 'ok six']);
    expect(udp.stats().openSockets).toBe(2);
  });

  it('resolves host names with the system resolver (localhost)', async () => {
    const { address } = await dnsLookup('localhost');
    const echo = await startEcho({ address });
    const udp = newClient();
    const reply = await udp.request({ host: 'localhost', port: echo.target.port }, bytes('by name'));
    expect(text(reply.value)).toBe('by name');
  });

  it('fails only the item whose name does not resolve, as a network error', async () => {
    const [a, b] = await Promise.all([startEcho(), startEcho()]);
    const resolved: string[] = [];
    const udp = newClient({
      lookup: (hostname) => {
        resolved.push(hostname);
        if (hostname === 'echo.test') return Promise.resolve({ address: '127.0.0.1', family: 4 });
        if (hostname === 'garbage.test') return Promise.resolve({ address: 'not an ip' });
        return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
      },
    });
    const outcomes = await udp.fanOut([
      { target: { host: 'echo.test', port: a.target.port }, payload: bytes('named') },
      { target: { host: 'missing.test', port: a.target.port }, payload: bytes('lost') },
      { target: b.target, payload: bytes('literal') },
      { target: { host: 'garbage.test', port: b.target.port }, payload: bytes('junk') },
    ]);
    expect(describeOutcomes(outcomes)).toEqual(['ok named', 'network UDP_RESOLVE_FAILED', 'ok literal', 'network UDP_RESOLVE_FAILED']);
    expect(outcomes[1]).toMatchObject({ error: { context: { host: 'missing.test', osCode: 'ENOTFOUND' } } });
    // IP literals never reach the resolver.
    expect(resolved.sort()).toEqual(['echo.test', 'garbage.test', 'missing.test']);
    expect(udp.stats()).toMatchObject({ errors: 2, sent: 2 });
  });

  it('times out an item whose name resolution hangs, at the item timeout', async () => {
    const udp = newClient({ lookup: () => new Promise(() => undefined) });
    const error = await udp.request({ host: 'slow.test', port: 9 }, bytes('x'), { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UDP_TIMEOUT', category: 'timeout' });
    expect(udp.stats()).toMatchObject({ sent: 0, inFlight: 0 });
  });
});

describe('errors reported by the operating system', () => {
  it('turns a send the OS refuses (EMSGSIZE) into a network error on that item only', async () => {
    const echo = await startEcho();
    // Allow what the OS does not: 65508 bytes is over the IPv4 UDP maximum.
    const udp = newClient({ maxRequestBytes: 65_535 });
    const outcomes = await udp.fanOut([
      { target: echo.target, payload: bytes('small') },
      { target: echo.target, payload: new Uint8Array(65_508) },
      { target: echo.target, payload: bytes('also small') },
    ]);
    expect(describeOutcomes(outcomes)).toEqual(['ok small', 'network UDP_SEND_FAILED', 'ok also small']);
    expect(outcomes[1]).toMatchObject({ error: { context: { osCode: 'EMSGSIZE', port: echo.target.port } } });
    expect(udp.stats()).toMatchObject({ errors: 1, inFlight: 0 });
    // A send error does not condemn the socket.
    expect(text((await udp.request(echo.target, bytes('after'))).value)).toBe('after');
  });

  it("fails every item waiting on a socket that emits 'error' and never reuses that socket", async () => {
    const [a, b] = await Promise.all([startEcho(), startEcho()]);
    // 192.0.2.1 (TEST-NET-1) is not a local address: binding to it fails with EADDRNOTAVAIL.
    const udp = newClient({ bindAddress: { ipv4: '192.0.2.1' } });
    const outcomes = await udp.fanOut([
      { target: a.target, payload: bytes('a') },
      { target: b.target, payload: bytes('b') },
    ]);
    expect(describeOutcomes(outcomes)).toEqual(['network UDP_SOCKET_ERROR', 'network UDP_SOCKET_ERROR']);
    expect(outcomes[0]).toMatchObject({ error: { context: { osCode: 'EADDRNOTAVAIL' } } });
    expect(udp.stats()).toMatchObject({ openSockets: 0, errors: 2, inFlight: 0 });
    expect(a.received).toHaveLength(0);
  });

  it('still closes a socket whose bind fails after close() was already called', async () => {
    const live = trackUdpHandles();
    try {
      const silent = await startSilent();
      live.reset();
      const udp = newClient({ bindAddress: { ipv4: '192.0.2.1' } });
      const pending = udp.fanOut([{ target: silent.target, payload: bytes('x') }]);
      await udp.close();
      expect(describeOutcomes(await pending)).toEqual(['aborted UDP_CLOSED']);
      await until(() => live.count() === 0);
    } finally {
      live.stop();
    }
  });
});

/**
 * Watches, through async_hooks, every UDP handle created since the last reset and every timer this
 * package's source creates, until the runtime destroys them. Unlike `getActiveResourcesInfo()` this
 * also sees unref'd sockets.
 */
function trackUdpHandles(): { reset(): void; count(): number; timers(): number; createdTimers(): number; stop(): void } {
  const live = new Set<number>();
  const liveTimers = new Set<number>();
  let created = 0;
  const hook = createHook({
    init(id, type) {
      if (type === 'UDPWRAP') live.add(id);
      if (type === 'Timeout' && (new Error().stack ?? '').includes('udp-transport/src/')) {
        liveTimers.add(id);
        created++;
      }
    },
    destroy(id) {
      live.delete(id);
      liveTimers.delete(id);
    },
  }).enable();
  return {
    reset: () => live.clear(),
    count: () => live.size,
    timers: () => liveTimers.size,
    createdTimers: () => created,
    stop: () => hook.disable(),
  };
}

/** Resource types, leaving out timers: vitest's own reporter timers come and go during a test. */
function resourcesBesidesTimers(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((type) => type !== 'Timeout')
    .sort();
}

describe('event loop and cleanup', () => {
  it('keeps the event loop alive while a datagram is out, and not because of idle pooled sockets', async () => {
    const [echo, silent] = await Promise.all([startEcho(), startSilent()]);
    const udp = newClient();
    const before = process.getActiveResourcesInfo();
    const pending = udp.request(silent.target, bytes('x'), { timeoutMs: 10_000 });
    const during = process.getActiveResourcesInfo();
    expect(count(during, 'Timeout')).toBe(count(before, 'Timeout') + 1);
    void udp.close();
    await pending.catch(() => undefined);
    const udp2 = newClient();
    await udp2.request(echo.target, bytes('x'));
    expect(udp2.stats().openSockets).toBe(1);
    const idle = process.getActiveResourcesInfo();
    expect(count(idle, 'UDPWrap')).toBe(count(before, 'UDPWrap'));
  });

  it('leaves no socket, timer or listener behind after 10,000 fan-outs and close()', async () => {
    const echoes = await Promise.all([startEcho(), startEcho(), startEcho()]);
    const silent = await startSilent();
    const udpHandles = trackUdpHandles();
    try {
      const resourcesBefore = resourcesBesidesTimers();
      // Far longer than the checks below wait: a timer left armed could not expire on its own meanwhile.
      const udp = newClient({ timeoutMs: 60_000 });
      const shared = new AbortController();
      const items: UdpFanOutItem[] = echoes.map((echo, i) => ({ target: echo.target, payload: bytes(`e${i}`) }));
      const withSilent: UdpFanOutItem[] = [...items, { target: silent.target, payload: bytes('s'), timeoutMs: 1 }];
      const sameTarget: UdpFanOutItem[] = Array.from({ length: 6 }, () => items[0]!);
      let failures = 0;
      for (let round = 0; round < 10_000; round++) {
        let outcomes: UdpOutcome[];
        if (round % 1000 === 250) {
          outcomes = await udp.fanOut(sameTarget, { signal: shared.signal });
        } else if (round % 1000 === 500) {
          const controller = new AbortController();
          const pending = udp.fanOut(withSilent, { signal: controller.signal, timeoutMs: 60_000 });
          controller.abort();
          outcomes = await pending;
          if (outcomes.some((o) => o.ok || o.error.code !== 'ABORTED')) failures++;
          continue;
        } else if (round % 1000 === 750) {
          outcomes = await udp.fanOut(withSilent, { signal: shared.signal });
          if (outcomes[3]!.ok || outcomes[3]!.error.code !== 'UDP_TIMEOUT') failures++;
          outcomes = outcomes.slice(0, 3);
        } else {
          outcomes = await udp.fanOut(items, { signal: shared.signal });
        }
        if (!outcomes.every((o) => o.ok)) failures++;
      }
      expect(failures).toBe(0);
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
      expect(udp.stats()).toMatchObject({ inFlight: 0, sent: 9970 * 3 + 10 * 6 + 10 * 4 + 10 * 4 });
      await udp.close();
      expect(udp.stats().openSockets).toBe(0);
      expect(resourcesBesidesTimers()).toEqual(resourcesBefore);
      // Unref'd sockets do not show up above: check that every UDP handle and timer was really destroyed.
      expect(udpHandles.createdTimers()).toBeGreaterThanOrEqual(10_000);
      // Node reports destroyed resources to async hooks in batches, a little later.
      await until(() => udpHandles.timers() === 0 && udpHandles.count() === 0);
    } finally {
      udpHandles.stop();
    }
  });

  it('lets a process that forgets close() exit once its requests are done', async () => {
    const packageDir = fileURLToPath(new URL('..', import.meta.url));
    const script = `
      import { createSocket } from 'node:dgram';
      import { once } from 'node:events';
      import { createUdpClient } from '@x/udp-transport';
      const echo = createSocket('udp4');
      echo.on('message', (m, r) => echo.send(m, r.port, r.address));
      echo.bind(0, '127.0.0.1');
      await once(echo, 'listening');
      const port = echo.address().port;
      const udp = createUdpClient();
      const reply = await udp.request({ host: '127.0.0.1', port }, new TextEncoder().encode('hi'));
      echo.close();
      // Nothing listens on the port any more: this request stays pending until its timeout.
      const error = await udp.request({ host: '127.0.0.1', port }, new Uint8Array(1), { timeoutMs: 200 }).catch((e) => e);
      console.log(new TextDecoder().decode(reply.value), error.code, udp.stats().openSockets);
    `;
    // Killed (and so failed) if it does not exit on its own.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@x/source', '--input-type=module', '-e', script],
      { cwd: packageDir, timeout: 15_000 },
    );
    expect(stdout.trim()).toBe('hi UDP_TIMEOUT 1');
  });
});
