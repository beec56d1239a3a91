import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';

interface RpcMessage {
  readonly id?: number | string | null;
  readonly method?: string;
  readonly params?: unknown;
}

/** What a test server does with one request on one socket: return a result, or undefined to stay silent. */
export type Handler = (message: RpcMessage, socket: WebSocket, server: TestServer) => unknown;

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly wss: WebSocketServer;
  /** Sockets open now. */
  readonly sockets: Set<WebSocket>;
  /** Connections accepted so far. */
  connections: number;
  /** Every request received, in order. */
  readonly requests: RpcMessage[];
  /** Sends `{ method, params: { subscription, result } }` on every open socket. */
  notify(method: string, subscription: number | string, result: unknown): void;
  /** Drops every connection without a close frame. */
  dropAll(): void;
  close(): Promise<void>;
}

/**
 * A JSON-RPC WebSocket server on 127.0.0.1: `xSubscribe` answers with a fresh subscription id per
 * connection, `xUnsubscribe` with true, anything else through `handler` (default: echo the params).
 */
export async function startServer(handler?: Handler, options: { port?: number; autoPong?: boolean } = {}): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, autoPong: options.autoPong ?? true });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let nextSubscription = 100;
  const server: TestServer = {
    url: `ws://127.0.0.1:${port}`,
    port,
    wss,
    sockets: new Set(),
    connections: 0,
    requests: [],
    notify(method, subscription, result) {
      for (const socket of server.sockets) socket.send(JSON.stringify({ jsonrpc: '2.0', method, params: { subscription, result } }));
    },
    dropAll() {
      for (const socket of server.sockets) socket.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of server.sockets) socket.terminate();
        wss.close(() => resolve());
      }),
  };
  wss.on('connection', (socket) => {
    server.connections += 1;
    server.sockets.add(socket);
    socket.on('close', () => server.sockets.delete(socket));
    socket.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as RpcMessage;
      server.requests.push(message);
      let result: unknown;
      if (handler !== undefined) result = handler(message, socket, server);
      else if (message.method?.endsWith('Subscribe') === true) result = nextSubscription += 1;
      else if (message.method?.endsWith('Unsubscribe') === true) result = true;
      else result = message.params;
      if (result !== undefined && socket.readyState === socket.OPEN)
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    });
  });
  return server;
}

/** Resolves when `predicate` holds, checking after every event-loop turn; fails after 10 s (a hang, not a timing assertion). */
export async function until(predicate: () => boolean, what = 'condition'): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > giveUpAt) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
