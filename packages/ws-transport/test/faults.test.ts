import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createWsTransport } from '../src/index.js';
import type { WsTransportEvent, WsTransportOptions } from '../src/index.js';
import { startServer, until } from './helpers.js';
import type { Handler } from './helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(options: Partial<WsTransportOptions> = {}, handler?: Handler, serverOptions?: { autoPong?: boolean }) {
  const server = await startServer(handler, serverOptions);
  cleanup.push(() => server.close());
  const events: WsTransportEvent[] = [];
  const transport = createWsTransport({ url: server.url, onEvent: (event) => events.push(event), ...options });
  cleanup.push(() => transport.close());
  return { server, transport, events };
}

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

const fast = { reconnect: { initialDelayMs: 2, maxDelayMs: 10 } } as const;

describe('messages the transport cannot use', () => {
  it('drops garbage frames, binary frames and answers to no request, and keeps the connection', async () => {
    const { transport, events } = await setup({}, (message, socket) => {
      if (message.method !== 'garbage') return message.params;
      socket.send('{not json');
      socket.send(Buffer.from([1, 2, 3]), { binary: true });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 999_999, result: 1 }));
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'logsNotification', params: { result: 1 } }));
      socket.send(JSON.stringify({ hello: 'world' }));
      return 'done';
    });
    await expect(transport.call('garbage')).resolves.toBe('done');
    await until(() => transport.stats().ignored === 5, 'five ignored messages');
    const ignored = events.filter((event) => event.type === 'ignored');
    expect(
      ignored.every(
        (event) => event.type === 'ignored' && isXError(event.error, 'WS_MALFORMED_MESSAGE') && event.error.category === 'protocol',
      ),
    ).toBe(true);
    await expect(transport.call('echo', [1])).resolves.toEqual([1]);
    expect(events.filter((event) => event.type === 'close')).toHaveLength(0);
  });

  it('closes with 1009 on a message larger than maxPayload, fails the waiting call and reconnects', async () => {
    const { transport, events, server } = await setup({ maxPayload: 1_024, ...fast }, (message) =>
      message.method === 'big' ? 'x'.repeat(4_096) : message.params,
    );
    const error = await transport.call('big').catch((e: unknown) => e);
    expect(isXError(error, 'WS_MESSAGE_TOO_LARGE')).toBe(true);
    expect(isXError(error, 'WS_MESSAGE_TOO_LARGE') && error.context.maxPayload).toBe(1_024);
    await until(() => events.some((event) => event.type === 'open' && event.reconnect));
    const close = events.find((event) => event.type === 'close');
    expect(close).toMatchObject({ type: 'close', code: 1006 });
    expect(server.connections).toBe(2);
    await expect(transport.call('echo', ['small'])).resolves.toEqual(['small']);
  });

  it('turns a JSON-RPC error answer into WS_RPC_ERROR, or WS_RPC_CALLER_ERROR for a wrong request', async () => {
    const { transport } = await setup({}, (message, socket) => {
      const code = message.method === 'unknown' ? -32601 : -32005;
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code, message: 'no' } }));
      return undefined;
    });
    const wrong = await transport.call('unknown').catch((e: unknown) => e);
    expect(isXError(wrong, 'WS_RPC_CALLER_ERROR') && wrong.category === 'config' && wrong.context.rpcCode === -32601).toBe(true);
    const busy = await transport.subscribe('logsSubscribe', ['all'], { onNotification: () => undefined }).catch((e: unknown) => e);
    expect(isXError(busy, 'WS_RPC_ERROR') && busy.category === 'server' && busy.context.method === 'logsSubscribe').toBe(true);
  });
});

describe('connections that fail', () => {
  it('drops a connection whose server never answers pings (WS_PONG_TIMEOUT) and reconnects', async () => {
    const { transport, events } = await setup({ pingIntervalMs: 10, pongTimeoutMs: 20, ...fast }, undefined, { autoPong: false });
    await until(() => events.some((event) => event.type === 'open' && event.connection === 2), 'a second connection');
    const close = events.find((event) => event.type === 'close');
    expect(close?.type === 'close' && isXError(close.error, 'WS_PONG_TIMEOUT')).toBe(true);
    expect(events.find((event) => event.type === 'retry')).toMatchObject({ attempt: 1 });
    await transport.close();
  });

  it('reports an HTTP status answered instead of the upgrade as WS_HANDSHAKE_REJECTED', async () => {
    const http = createServer((_request, response) => {
      response.writeHead(401).end('no key');
    });
    const port = await listen(http);
    const ended: unknown[] = [];
    const transport = createWsTransport({ url: `ws://127.0.0.1:${port}/v2/abcdefghijklmnop1234567890`, reconnect: false });
    cleanup.push(() => transport.close());
    const error = await transport.call('getSlot').catch((e: unknown) => e);
    expect(isXError(error, 'WS_HANDSHAKE_REJECTED') && error.context.status).toBe(401);
    expect(JSON.stringify(error)).not.toContain('abcdefghijklmnop1234567890');
    expect(transport.state).toBe('closed');
    await expect(
      transport.subscribe('slotSubscribe', undefined, { onNotification: () => undefined, onEnd: (e) => ended.push(e) }),
    ).rejects.toBe(error);
  });

  it('gives up a connection attempt after connectTimeoutMs (a server that accepts TCP but never upgrades)', async () => {
    const sockets = new Set<Socket>();
    const tcp = createTcpServer((socket) => {
      sockets.add(socket);
      socket.resume();
      socket.on('close', () => sockets.delete(socket));
    });
    const port = await listen(tcp);
    cleanup.push(() => {
      for (const socket of sockets) socket.destroy();
    });
    const transport = createWsTransport({ url: `ws://127.0.0.1:${port}/?api-key=SECRET_KEY_123`, connectTimeoutMs: 30, reconnect: false });
    cleanup.push(() => transport.close());
    const error = await transport.call('getSlot').catch((e: unknown) => e);
    expect(isXError(error, 'WS_CONNECT_TIMEOUT') && error.category === 'timeout' && error.context.connectTimeoutMs === 30).toBe(true);
    expect(isXError(error) && error.context.endpoint).toBe(`ws://127.0.0.1:${port}?api-key=***`);
    expect(JSON.stringify(error)).not.toContain('SECRET_KEY_123');
    await until(() => sockets.size === 0, 'the half-open socket closed');
  });

  it('gives up after reconnect.maxAttempts refused attempts, ending subscriptions with WS_RECONNECT_GAVE_UP', async () => {
    const { server, transport, events } = await setup({ reconnect: { initialDelayMs: 1, maxDelayMs: 4, maxAttempts: 3 } });
    const ended: unknown[] = [];
    await transport.subscribe('slotSubscribe', undefined, { onNotification: () => undefined, onEnd: (error) => ended.push(error) });
    await server.close();
    await until(() => transport.state === 'closed', 'the transport to give up');
    expect(events.filter((event) => event.type === 'retry').map((event) => event.type === 'retry' && event.attempt)).toEqual([1, 2, 3]);
    expect(events.at(-1)?.type).toBe('gave-up');
    expect(ended).toHaveLength(1);
    expect(isXError(ended[0], 'WS_RECONNECT_GAVE_UP') && ended[0].context.attempts).toBe(3);
    const late = await transport.call('echo').catch((e: unknown) => e);
    expect(isXError(late, 'WS_RECONNECT_GAVE_UP')).toBe(true);
  });

  it('with reconnect: false, a disconnect ends the transport and its subscriptions', async () => {
    const { server, transport } = await setup({ reconnect: false });
    const ended: unknown[] = [];
    await transport.subscribe('slotSubscribe', undefined, { onNotification: () => undefined, onEnd: (error) => ended.push(error) });
    server.dropAll();
    await until(() => ended.length === 1);
    expect(isXError(ended[0], 'WS_DISCONNECTED') && ended[0].context.code).toBe(1006);
    expect(transport.state).toBe('closed');
  });
});

describe('requests', () => {
  it('rejects an aborted call at once and cancels a subscription whose id arrives after the abort', async () => {
    let answer: (() => void) | undefined;
    const { transport, server } = await setup({}, (message, socket) => {
      if (message.method === 'slotSubscribe') {
        answer = () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: 77 }));
        return undefined;
      }
      return true;
    });
    const controller = new AbortController();
    const pending = transport.subscribe('slotSubscribe', undefined, { onNotification: () => undefined, signal: controller.signal });
    await until(() => answer !== undefined);
    controller.abort(new Error('not needed'));
    const error = await pending.catch((e: unknown) => e);
    expect(isXError(error, 'ABORTED')).toBe(true);
    answer?.();
    await until(() => server.requests.some((request) => request.method === 'slotUnsubscribe'), 'the late id to be cancelled');
    expect(server.requests.at(-1)).toMatchObject({ method: 'slotUnsubscribe', params: [77] });
  });

  it('unsubscribes when the subscription signal aborts after the answer', async () => {
    const { transport, server } = await setup();
    const controller = new AbortController();
    const subscription = await transport.subscribe('accountSubscribe', ['key'], {
      onNotification: () => undefined,
      signal: controller.signal,
    });
    controller.abort();
    expect(subscription.active).toBe(false);
    await until(() => server.requests.some((request) => request.method === 'accountUnsubscribe'));
  });

  it('refuses a request that would overflow maxBufferedBytes while disconnected, with WS_SEND_BUFFER_FULL', async () => {
    const tcp = createTcpServer(() => undefined);
    const port = await listen(tcp);
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    const transport = createWsTransport({ url: `ws://127.0.0.1:${port}`, maxBufferedBytes: 200, reconnect: { initialDelayMs: 1_000 } });
    cleanup.push(() => transport.close());
    const first = transport.call('echo', ['x'.repeat(100)]).catch((e: unknown) => e);
    const second = await transport.call('echo', ['y'.repeat(100)]).catch((e: unknown) => e);
    expect(isXError(second, 'WS_SEND_BUFFER_FULL') && second.context.maxBufferedBytes).toBe(200);
    await transport.close();
    expect(isXError(await first, 'WS_CLOSED')).toBe(true);
  });

  it('checks its options and arguments with WS_INVALID_OPTIONS / WS_INVALID_REQUEST naming the option', () => {
    const bad = (options: unknown): unknown => {
      try {
        createWsTransport(options as WsTransportOptions);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(bad({ url: 'http://127.0.0.1:1' })).toMatchObject({ code: 'WS_INVALID_OPTIONS', context: { option: 'url' } });
    expect(bad({ url: 'not a url with a secret' })).toMatchObject({ code: 'WS_INVALID_OPTIONS', context: { option: 'url' } });
    expect(JSON.stringify(bad({ url: 'not a url with a secret' }))).not.toContain('secret');
    expect(bad({ url: 'ws://127.0.0.1:1', connectTimeoutMs: 0 })).toMatchObject({
      code: 'WS_INVALID_OPTIONS',
      context: { option: 'connectTimeoutMs' },
    });
    expect(bad({ url: 'ws://127.0.0.1:1', reconnect: { jitter: 2 } })).toMatchObject({ context: { option: 'reconnect.jitter' } });
    expect(bad({ url: 'ws://127.0.0.1:1', reconnect: { initialDelayMs: 500, maxDelayMs: 100 } })).toMatchObject({
      context: { option: 'reconnect.maxDelayMs' },
    });
    expect(bad({ url: 'ws://127.0.0.1:1', maxPayload: 1.5 })).toMatchObject({ context: { option: 'maxPayload' } });
    expect(bad({ url: 'ws://127.0.0.1:1', headers: { upgrade: 'x' } })).toMatchObject({ context: { option: 'headers' } });
    expect(bad({ url: 'ws://127.0.0.1:1', headers: { authorization: 'Bearer a\r\nb' } })).toMatchObject({
      context: { option: 'headers.authorization' },
    });
    expect(bad({ url: 'ws://127.0.0.1:1', bigIntegers: 'exact' })).toMatchObject({ context: { option: 'bigIntegers' } });
  });

  it('throws WS_INVALID_REQUEST for a bad method, params, or a subscribe without onNotification', async () => {
    const { transport } = await setup();
    expect(() => transport.call('')).toThrow(
      expect.objectContaining({ code: 'WS_INVALID_REQUEST', context: { option: 'method', received: '""' } }),
    );
    expect(() => transport.call('x', 'y' as never)).toThrow(expect.objectContaining({ context: { option: 'params', received: '"y"' } }));
    expect(() => transport.subscribe('slotSubscribe', undefined, {} as never)).toThrow(
      expect.objectContaining({ context: { option: 'onNotification' } }),
    );
    expect(() => transport.subscribe('watch', undefined, { onNotification: () => undefined })).toThrow(
      expect.objectContaining({ context: { option: 'unsubscribeMethod' } }),
    );
  });
});

describe('secrets', () => {
  it('keeps API keys of the URL out of labels, errors, causes and events', async () => {
    const server = await startServer();
    const port = server.port;
    await server.close();
    const key = 'k3yAbCdEfGhIjKlMnOpQrStUv';
    const events: WsTransportEvent[] = [];
    const transport = createWsTransport({
      url: `ws://user:pa55word@127.0.0.1:${port}/v2/${key}?token=${key}`,
      reconnect: { initialDelayMs: 1, maxAttempts: 2 },
      onEvent: (event) => events.push(event),
    });
    cleanup.push(() => transport.close());
    expect(transport.label).toBe(`ws://***@127.0.0.1:${port}/v2/***?token=***`);
    const error = await transport.call('getSlot').catch((e: unknown) => e);
    expect(isXError(error, 'WS_RECONNECT_GAVE_UP')).toBe(true);
    const retry = events.find((event) => event.type === 'retry');
    expect(retry?.type === 'retry' && isXError(retry.error, 'WS_CONNECT_FAILED') && retry.error.category).toBe('network');
    const rendered = JSON.stringify([error, events, (error as Error).cause]) + String((error as Error).stack);
    expect(rendered).not.toContain(key);
    expect(rendered).not.toContain('pa55word');
    const labelled = createWsTransport({ url: `ws://127.0.0.1:${port}/v2/${key}`, label: `provider ${key}`, reconnect: false });
    cleanup.push(() => labelled.close());
    expect(labelled.label).toBe('provider ***');
  });
});
