import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';

interface Sub {
  readonly socket: WebSocket;
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

/**
 * A Solana-like WebSocket provider on 127.0.0.1 driven by the test: `*Subscribe` answers a fresh id,
 * `*Unsubscribe` true; `notify` sends a notification to every live subscription of a method.
 */
export interface FakeProvider {
  readonly url: string;
  readonly port: number;
  /** Live subscriptions (unsubscribed and closed ones removed). */
  readonly subs: Sub[];
  readonly unsubscribes: string[];
  readonly sockets: Set<WebSocket>;
  notify(method: string, result: unknown): void;
  /** Drops every connection without a close frame (the client reconnects). */
  dropAll(): void;
  /** Resolves once `n` subscriptions of `method` are live. */
  waitForSubs(method: string, n: number): Promise<void>;
  close(): Promise<void>;
}

const NOTIFICATION: Record<string, string> = {
  logsSubscribe: 'logsNotification',
  slotSubscribe: 'slotNotification',
  accountSubscribe: 'accountNotification',
  programSubscribe: 'programNotification',
  signatureSubscribe: 'signatureNotification',
};

export async function startFakeProvider(port = 0): Promise<FakeProvider> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : 0;
  const subs: Sub[] = [];
  const unsubscribes: string[] = [];
  const sockets = new Set<WebSocket>();
  const waiters: Array<() => void> = [];
  let nextId = 100;
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      for (let i = subs.length - 1; i >= 0; i--) if (subs[i]?.socket === socket) subs.splice(i, 1);
    });
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { id: number; method: string; params?: unknown[] };
      if (message.method.endsWith('Unsubscribe')) {
        const target = message.params?.[0];
        const at = subs.findIndex((s) => s.socket === socket && s.id === target);
        if (at !== -1) subs.splice(at, 1);
        unsubscribes.push(message.method);
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: at !== -1 }));
        return;
      }
      const id = nextId++;
      subs.push({ socket, id, method: message.method, params: message.params });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: id }));
      for (const wake of waiters.splice(0)) wake();
    });
  });
  const provider: FakeProvider = {
    url: `ws://127.0.0.1:${actualPort}`,
    port: actualPort,
    subs,
    unsubscribes,
    sockets,
    notify(method, result) {
      for (const sub of subs) {
        if (sub.method !== method) continue;
        const notification = NOTIFICATION[method] ?? 'notification';
        sub.socket.send(JSON.stringify({ jsonrpc: '2.0', method: notification, params: { subscription: sub.id, result } }));
      }
    },
    dropAll() {
      for (const socket of sockets) socket.terminate();
    },
    async waitForSubs(method, n) {
      while (subs.filter((s) => s.method === method).length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  return provider;
}

export function logsResult(signature: string, slot: number): unknown {
  return { context: { slot }, value: { signature, err: null, logs: [`Program log: ${signature}`] } };
}
