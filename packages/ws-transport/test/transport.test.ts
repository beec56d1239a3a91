import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createWsTransport } from '../src/index.js';
import type { WsNotification, WsTransportEvent } from '../src/index.js';
import { startServer, until } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(options: Partial<Parameters<typeof createWsTransport>[0]> = {}, handler?: Parameters<typeof startServer>[0]) {
  const server = await startServer(handler);
  cleanup.push(() => server.close());
  const events: WsTransportEvent[] = [];
  const transport = createWsTransport({ url: server.url, onEvent: (event) => events.push(event), ...options });
  cleanup.push(() => transport.close());
  return { server, transport, events };
}

describe('createWsTransport', () => {
  it('calls a method over the socket and resolves with its result', async () => {
    const { transport } = await setup();
    await expect(transport.call('echo', [1, 'two'])).resolves.toEqual([1, 'two']);
    expect(transport.state).toBe('open');
  });

  it('routes notifications to the subscription by id and stops after unsubscribe', async () => {
    const { server, transport } = await setup();
    const seen: WsNotification[] = [];
    const subscription = await transport.subscribe('logsSubscribe', [{ mentions: ['x'] }], { onNotification: (n) => seen.push(n) });
    expect(subscription.id).toBe(101);
    server.notify('logsNotification', 101, { value: { signature: 'a' } });
    server.notify('logsNotification', 999, { value: { signature: 'other' } });
    await until(() => transport.stats().unrouted === 1);
    expect(seen.map((n) => n.result)).toEqual([{ value: { signature: 'a' } }]);
    expect(seen[0]).toMatchObject({ method: 'logsNotification', subscription: 101, connection: 1 });
    await expect(subscription.unsubscribe()).resolves.toBe(true);
    expect(server.requests.at(-1)).toMatchObject({ method: 'logsUnsubscribe', params: [101] });
    server.notify('logsNotification', 101, { value: { signature: 'late' } });
    await until(() => transport.stats().unrouted === 2);
    expect(seen).toHaveLength(1);
  });

  it('reconnects after an abrupt disconnect and re-issues the live subscriptions', async () => {
    const resubscribed: unknown[] = [];
    const { server, transport, events } = await setup({ reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
    const seen: unknown[] = [];
    const subscription = await transport.subscribe('slotSubscribe', undefined, {
      onNotification: (n) => seen.push(n.result),
      onResubscribed: (r) => resubscribed.push(r),
    });
    server.dropAll();
    await until(() => events.some((e) => e.type === 'resubscribed'));
    expect(subscription.id).toBe(102);
    expect(subscription.connection).toBe(2);
    expect(resubscribed).toEqual([expect.objectContaining({ previousId: 101, id: 102, connection: 2 })]);
    expect(events.map((e) => e.type)).toEqual(['open', 'close', 'retry', 'open', 'resubscribed']);
    server.notify('slotNotification', 102, { slot: 7 });
    await until(() => seen.length === 1);
    expect(seen).toEqual([{ slot: 7 }]);
  });

  it('a connection that drops while re-issuing leaves the subscriptions for the next one; a refused re-issue ends only that one', async () => {
    let next = 0;
    const { server, transport, events } = await setup({ reconnect: { initialDelayMs: 1, maxDelayMs: 5 } }, (message, socket, srv) => {
      if (message.method === 'accountSubscribe' && srv.connections > 1) {
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32602, message: 'Invalid param' } }));
        return undefined;
      }
      if (message.method?.endsWith('Subscribe') !== true) return true;
      // The second connection dies at the first re-issue it receives.
      if (srv.connections === 2) {
        socket.terminate();
        return undefined;
      }
      return (next += 1);
    });
    const ended: unknown[] = [];
    const slot = await transport.subscribe('slotSubscribe', undefined, { onNotification: () => undefined, onEnd: (e) => ended.push(e) });
    const account = await transport.subscribe('accountSubscribe', ['key'], {
      onNotification: () => undefined,
      onEnd: (e) => ended.push(e),
    });
    server.dropAll();
    await until(() => events.some((e) => e.type === 'resubscribed'), 'a complete re-issue');
    expect(events.filter((e) => e.type === 'resubscribed')).toEqual([
      expect.objectContaining({ connection: 3, resubscribed: 1, failed: 1 }),
    ]);
    expect([slot.active, slot.connection, account.active]).toEqual([true, 3, false]);
    expect(ended).toEqual([expect.objectContaining({ code: 'WS_RPC_CALLER_ERROR' })]);
  });

  it('sends a subscribe again on the next connection when its connection drops before the answer', async () => {
    const { transport, server } = await setup({ reconnect: { initialDelayMs: 1 } }, (message, socket, srv) => {
      if (srv.connections === 1) {
        socket.terminate();
        return undefined;
      }
      return 42;
    });
    const subscription = await transport.subscribe('logsSubscribe', ['all'], { onNotification: () => undefined });
    expect([subscription.id, subscription.connection]).toEqual([42, 2]);
    expect(server.requests.filter((request) => request.method === 'logsSubscribe')).toHaveLength(2);
    // A plain call is not sent twice: it fails with the disconnect.
    server.dropAll();
    const { transport: other, server: second } = await setup({ reconnect: { initialDelayMs: 1 } }, (_message, socket) => {
      socket.terminate();
      return undefined;
    });
    const error = await other.call('sendSomething', []).catch((e: unknown) => e);
    expect(isXError(error, 'WS_DISCONNECTED')).toBe(true);
    expect(second.requests).toHaveLength(1);
  });

  it('rejects a subscribe the server never answers with WS_TIMEOUT', async () => {
    const { transport } = await setup({ timeoutMs: 50 }, () => undefined);
    const error = await transport.subscribe('logsSubscribe', ['all'], { onNotification: () => undefined }).catch((e: unknown) => e);
    expect(isXError(error, 'WS_TIMEOUT')).toBe(true);
    expect(transport.stats().pending).toBe(0);
  });
});
