import { once } from 'node:events';
import { isXError } from '@x/errors';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fakeLogsResult, startFakeWsProvider, type FakeWsProvider } from '../src/index.js';

let provider: FakeWsProvider | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await provider?.close();
  provider = undefined;
});

/** A client whose messages are queued as they arrive, parsed. */
async function connect(url: string): Promise<{ socket: WebSocket; send: (message: unknown) => void; next: () => Promise<unknown> }> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  const queue: unknown[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data: Buffer) => {
    queue.push(JSON.parse(data.toString('utf8')));
    for (const wake of waiters.splice(0)) wake();
  });
  await once(socket, 'open');
  return {
    socket,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next: async () => {
      while (queue.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
      return queue.shift();
    },
  };
}

describe('startFakeWsProvider', () => {
  it('answers subscribes with fresh ids, sends the notifications the test writes, and ends subscriptions on unsubscribe', async () => {
    provider = await startFakeWsProvider();
    expect(provider.url).toBe(`ws://127.0.0.1:${provider.port}`);
    const client = await connect(provider.url);
    client.send({ jsonrpc: '2.0', id: 1, method: 'logsSubscribe', params: ['all'] });
    client.send({ jsonrpc: '2.0', id: 2, method: 'slotSubscribe' });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 1, result: 100 });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 2, result: 101 });
    await provider.waitForSubscriptions('slotSubscribe', 1);
    expect(provider.subscriptions).toMatchObject([
      { id: 100, method: 'logsSubscribe', params: ['all'] },
      { id: 101, method: 'slotSubscribe', params: undefined },
    ]);
    expect(provider.openConnections).toBe(1);

    expect(provider.notify('logsSubscribe', fakeLogsResult('sig1', 7))).toBe(1);
    expect(await client.next()).toEqual({
      jsonrpc: '2.0',
      method: 'logsNotification',
      params: { subscription: 100, result: { context: { slot: 7 }, value: { signature: 'sig1', err: null, logs: ['Program log: sig1'] } } },
    });
    expect(provider.notify('accountSubscribe', {})).toBe(0);

    client.send({ jsonrpc: '2.0', id: 3, method: 'logsUnsubscribe', params: [100] });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 3, result: true });
    client.send({ jsonrpc: '2.0', id: 4, method: 'logsUnsubscribe', params: [100] });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 4, result: false });
    expect(provider.unsubscribes).toEqual(['logsUnsubscribe', 'logsUnsubscribe']);
    expect(provider.subscriptions.map((s) => s.method)).toEqual(['slotSubscribe']);
  });

  it('refuses bad messages with JSON-RPC errors and keeps serving', async () => {
    provider = await startFakeWsProvider();
    const client = await connect(provider.url);
    client.send('not json');
    expect(await client.next()).toMatchObject({ id: null, error: { code: -32700 } });
    client.send({ jsonrpc: '2.0', id: 5 });
    expect(await client.next()).toMatchObject({ id: 5, error: { code: -32600 } });
    client.send([1, 2]);
    expect(await client.next()).toMatchObject({ id: null, error: { code: -32600 } });
    client.send({ jsonrpc: '2.0', id: 6, method: 'getSlot' });
    expect(await client.next()).toMatchObject({ id: 6, error: { code: -32601 } });
    client.send({ jsonrpc: '2.0', id: 7, method: 'slotSubscribe' });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 7, result: 100 });
  });

  it('dropAll drops connections abruptly and forgets their subscriptions; close rejects a pending wait and is idempotent', async () => {
    provider = await startFakeWsProvider();
    const client = await connect(provider.url);
    client.send({ jsonrpc: '2.0', id: 1, method: 'slotSubscribe' });
    await provider.waitForSubscriptions('slotSubscribe', 1);
    const closed = once(client.socket, 'close');
    expect(provider.dropAll()).toBe(1);
    const [code] = (await closed) as [number];
    expect(code).toBe(1006);
    while (provider.openConnections > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(provider.subscriptions).toEqual([]);

    const waiting = provider.waitForSubscriptions('logsSubscribe', 1).catch((e: unknown) => e);
    const first = provider.close();
    expect(provider.close()).toBe(first);
    await first;
    const error = await waiting;
    expect(isXError(error, 'TESTKIT_PROVIDER_CLOSED') && error.context).toEqual({ method: 'logsSubscribe', count: 1 });
  });
});
