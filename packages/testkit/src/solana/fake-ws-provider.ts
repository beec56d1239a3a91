import { isPlainObject, XError } from '@x/errors';
import { WebSocketServer, type WebSocket } from 'ws';
import { handlesReleased } from '../handles.js';
import { LOOPBACK_HOST } from '../serving.js';

/** A live subscription on a fake WebSocket provider. */
export interface FakeWsSubscription {
  /** The id the provider answered, counted from 100 per provider. */
  readonly id: number;
  /** The subscribe method, e.g. `logsSubscribe`. */
  readonly method: string;
  /** The params sent with it, as received. */
  readonly params: unknown;
}

/**
 * A Solana-like WebSocket JSON-RPC provider on 127.0.0.1 whose notifications the test writes itself:
 * any `…Subscribe` answers a fresh id, any `…Unsubscribe` answers whether it ended a subscription of
 * that connection, and `notify` sends a notification to every live subscription of a method.
 */
export interface FakeWsProvider {
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Live subscriptions in the order they were made (unsubscribed ones and those of closed connections removed). */
  readonly subscriptions: readonly FakeWsSubscription[];
  /** The unsubscribe methods received, in order. */
  readonly unsubscribes: readonly string[];
  /** Client connections open now. */
  readonly openConnections: number;
  /**
   * Sends `result` to every live subscription of `method` as `<name>Notification` (`logsSubscribe` →
   * `logsNotification`) with `{ subscription, result }`; returns how many were sent.
   */
  notify(method: string, result: unknown): number;
  /** Drops every connection without a close frame (clients see code 1006 and may reconnect); returns how many. */
  dropAll(): number;
  /** Resolves once `count` subscriptions of `method` are live; rejects with `TESTKIT_PROVIDER_CLOSED` if the provider closes first. */
  waitForSubscriptions(method: string, count: number): Promise<void>;
  /** Drops every connection and stops listening; resolves once the handles are released. Idempotent. */
  close(): Promise<void>;
}

declare module '@x/errors' {
  interface ErrorContexts {
    /** `waitForSubscriptions` outlived its provider. */
    TESTKIT_PROVIDER_CLOSED: { readonly method: string; readonly count: number };
  }
}

interface Subscription extends FakeWsSubscription {
  readonly socket: WebSocket;
}

const HOST = LOOPBACK_HOST;
const FIRST_ID = 100;

function answer(socket: WebSocket, id: unknown, body: { result: unknown } | { error: { code: number; message: string } }): void {
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: id ?? null, ...body }));
}

/**
 * The `result` of a `logsNotification` for one transaction: `{ context: { slot }, value: { signature, err: null, logs } }`,
 * with one log line naming the signature.
 */
export function fakeLogsResult(signature: string, slot: number): unknown {
  return { context: { slot }, value: { signature, err: null, logs: [`Program log: ${signature}`] } };
}

/**
 * Starts a fake WebSocket provider on a 127.0.0.1 ephemeral port. Text that is not JSON gets `-32700`, a
 * message without a string `method` `-32600`, and a method that neither subscribes nor unsubscribes `-32601`.
 */
export async function startFakeWsProvider(): Promise<FakeWsProvider> {
  const wss = new WebSocketServer({ host: HOST, port: 0, perMessageDeflate: false });
  try {
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
  } catch (error) {
    wss.close();
    throw new XError({
      code: 'TESTKIT_RPC_LISTEN_FAILED',
      category: 'network',
      message: `A fake WebSocket provider could not listen on ${HOST}`,
      cause: error,
    });
  }
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const subscriptions: Subscription[] = [];
  const unsubscribes: string[] = [];
  const sockets = new Set<WebSocket>();
  const waiters: Array<() => void> = [];
  let nextId = FIRST_ID;
  let closing: Promise<void> | undefined;

  const wake = (): void => {
    for (const waiter of waiters.splice(0)) waiter();
  };

  function onMessage(socket: WebSocket, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      answer(socket, null, { error: { code: -32700, message: 'Parse error' } });
      return;
    }
    if (!isPlainObject(message) || typeof message.method !== 'string') {
      answer(socket, isPlainObject(message) ? message.id : null, { error: { code: -32600, message: 'Invalid Request' } });
      return;
    }
    const { id, method } = message;
    const params = Array.isArray(message.params) ? (message.params as unknown[]) : undefined;
    if (method.endsWith('Unsubscribe')) {
      const target = params?.[0];
      const at = subscriptions.findIndex((s) => s.socket === socket && s.id === target);
      if (at !== -1) subscriptions.splice(at, 1);
      unsubscribes.push(method);
      answer(socket, id, { result: at !== -1 });
      return;
    }
    if (!method.endsWith('Subscribe')) {
      answer(socket, id, { error: { code: -32601, message: 'Method not found' } });
      return;
    }
    const subscription = nextId++;
    subscriptions.push({ socket, id: subscription, method, params: message.params });
    answer(socket, id, { result: subscription });
    wake();
  }

  wss.on('connection', (socket) => {
    if (closing !== undefined) {
      socket.terminate();
      return;
    }
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      for (let i = subscriptions.length - 1; i >= 0; i--) if (subscriptions[i]?.socket === socket) subscriptions.splice(i, 1);
    });
    socket.on('message', (data: Buffer) => onMessage(socket, data.toString('utf8')));
  });

  const dropAll = (): number => {
    const count = sockets.size;
    for (const socket of sockets) socket.terminate();
    return count;
  };

  return {
    url: `ws://${HOST}:${port}`,
    port,
    subscriptions,
    unsubscribes,
    get openConnections() {
      return sockets.size;
    },
    notify(method, result) {
      const name = method.endsWith('Subscribe') ? `${method.slice(0, -'Subscribe'.length)}Notification` : 'notification';
      let sent = 0;
      for (const s of subscriptions) {
        if (s.method !== method) continue;
        s.socket.send(JSON.stringify({ jsonrpc: '2.0', method: name, params: { subscription: s.id, result } }));
        sent++;
      }
      return sent;
    },
    dropAll,
    async waitForSubscriptions(method, count) {
      while (subscriptions.filter((s) => s.method === method).length < count) {
        if (closing !== undefined) {
          throw new XError({
            code: 'TESTKIT_PROVIDER_CLOSED',
            category: 'config',
            message: `the fake WebSocket provider closed before ${count} ${method} subscriptions were live`,
            context: { method, count },
          });
        }
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close() {
      closing ??= (async () => {
        wake();
        dropAll();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await handlesReleased();
      })();
      return closing;
    },
  };
}
