import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createWsTransport } from '../src/index.js';
import type { WsTransportEvent } from '../src/index.js';
import { startServer, until } from './helpers.js';

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

// A full collection before each heap reading, as the other leak tests of the repository do.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const handles = (counts: Record<string, number>): number => (counts.TCPSocketWrap ?? 0) + (counts.Timeout ?? 0);

afterEach(() => {
  vi.useRealTimers();
});

describe('cleanup', () => {
  it('leaves no socket, timer or listener behind after subscriptions, a reconnect and close()', async () => {
    const server = await startServer();
    const before = resources();
    const signal = new AbortController().signal;
    const subscriptionSignal = new AbortController().signal;
    const events: WsTransportEvent[] = [];
    const transport = createWsTransport({
      url: server.url,
      signal,
      pingIntervalMs: 5,
      reconnect: { initialDelayMs: 1 },
      onEvent: (e) => events.push(e),
    });
    const ended: unknown[] = [];
    await transport.subscribe('logsSubscribe', ['all'], {
      onNotification: () => undefined,
      signal: subscriptionSignal,
      onEnd: (e) => ended.push(e),
    });
    await transport.subscribe('slotSubscribe', undefined, { onNotification: () => undefined, onEnd: (e) => ended.push(e) });
    server.dropAll();
    await until(() => events.some((e) => e.type === 'resubscribed'));
    const pending = transport.call('never', [], { timeoutMs: 60_000 }).catch((e: unknown) => e);
    server.requests.length = 0;
    await transport.close();
    expect(isXError(await pending, 'WS_CLOSED')).toBe(true);
    expect(ended.map((e) => isXError(e, 'WS_CLOSED'))).toEqual([true, true]);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(subscriptionSignal, 'abort')).toHaveLength(0);
    await until(() => handles(resources()) <= handles(before) && server.sockets.size === 0, 'every handle released');
    expect(transport.state).toBe('closed');
    await server.close();
  });

  it('an aborted transport signal closes it; a transport created with an aborted signal never connects', async () => {
    const server = await startServer();
    const controller = new AbortController();
    const transport = createWsTransport({ url: server.url, signal: controller.signal });
    await transport.call('echo', [1]);
    controller.abort();
    await until(() => transport.state === 'closed' && server.sockets.size === 0);
    const aborted = createWsTransport({ url: server.url, signal: AbortSignal.abort() });
    expect(aborted.state).toBe('closed');
    expect(isXError(await aborted.call('echo').catch((e: unknown) => e), 'WS_CLOSED')).toBe(true);
    expect(server.connections).toBe(1);
    await server.close();
  });

  it('waits the jittered backoff between reconnect attempts (fake timers)', async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const events: WsTransportEvent[] = [];
    const transport = createWsTransport({
      url: `ws://127.0.0.1:${port}`,
      reconnect: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0.5 },
      random: () => 0,
      onEvent: (e) => events.push(e),
    });
    const retries = (): number[] => events.flatMap((e) => (e.type === 'retry' ? [e.delayMs] : []));
    for (const expected of [[50], [50, 100], [50, 100, 200], [50, 100, 200, 200]]) {
      await until(() => retries().length === expected.length, `retry ${expected.length}`);
      expect(retries()).toEqual(expected);
      const delay = expected.at(-1) ?? 0;
      vi.advanceTimersByTime(delay - 1);
      // One millisecond early: the next attempt has not started, so no new failure can be reported.
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(1);
    }
    await transport.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('cycles against the simulated cluster', () => {
  it('many transports subscribing, losing their connection, re-subscribing and closing leave the process as it was', async () => {
    const { startRpcCluster } = await import('@x/testkit');
    const rounds = Number(process.env.LEAK_ROUNDS ?? 30);
    const cluster = await startRpcCluster({ autoAdvance: false, endpoints: 1, chain: { transactionsPerSlot: 0 } }); // no chain history to grow: the heap reading is the transport's
    const url = cluster.endpoints[0]!.wsUrl;
    const cycle = async (): Promise<void> => {
      const events: WsTransportEvent[] = [];
      const transport = createWsTransport({ url, pingIntervalMs: 50, reconnect: { initialDelayMs: 1 }, onEvent: (e) => events.push(e) });
      let slots = 0;
      await transport.subscribe('slotSubscribe', undefined, { onNotification: () => (slots += 1) });
      await transport.subscribe('logsSubscribe', ['all', { commitment: 'processed' }], { onNotification: () => undefined });
      cluster.chain.advance(2);
      await until(() => slots === 2);
      cluster.disconnectStreams(cluster.endpoints[0]!.id);
      await until(() => events.some((e) => e.type === 'resubscribed'));
      cluster.chain.advance(1);
      await until(() => slots === 3);
      await transport.close();
    };
    for (let round = 0; round < 5; round++) await cycle();
    await until(() => cluster.stats(cluster.endpoints[0]!.id).stream.openConnections === 0);
    const before = resources();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let round = 0; round < rounds; round++) await cycle();
    await until(() => cluster.stats(cluster.endpoints[0]!.id).stream.openConnections === 0, 'the server side to see every close');
    await until(() => handles(resources()) <= handles(before), 'handles back to the baseline');
    gc();
    const grownMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    if (process.env.LEAK_REPORT !== undefined) console.log(`${rounds} cycles: heap ${grownMiB.toFixed(2)} MiB, resources`, resources());
    expect(grownMiB).toBeLessThan(16);
    expect(cluster.stats(cluster.endpoints[0]!.id).stream.subscriptions).toBe(0);
    await cluster.close();
  });
});
