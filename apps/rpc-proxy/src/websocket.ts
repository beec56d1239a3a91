import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { isXError } from '@x/errors';
import { stringifyJson } from '@x/json-rpc';
import { createSolanaSubscriptions, createSubscriptionHub, createSubscriptionSession } from '@x/solana-rpc';
import type { SolanaRpc, SolanaStreamEndpointStats, SolanaSubscriptions, SolanaWsEndpointConfig, SubscriptionHub } from '@x/solana-rpc';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { invalidConfig } from './config.js';
import { PROXY_RPC_ERROR_CODES } from './jsonrpc.js';
import { DEFAULT_WEBSOCKET_LIMITS, websocketLimitIssues } from './websocket-limits.js';
import type { ProxyWebSocketLimits } from './websocket-limits.js';
import type { JsonRpcErrorObject } from '@x/json-rpc';

/** WebSocket subscriptions served on the proxy's own port (path `/`); the limits are in `websocket-limits.ts`. */
export interface ProxyWebSocketOptions extends ProxyWebSocketLimits {
  /**
   * Upstream WebSocket endpoints. Default: each HTTP endpoint's URL with `ws:`/`wss:` (providers serve both on one port).
   * Give them the HTTP endpoints' ids, so that each provider's lead is recorded in the pool.
   */
  readonly endpoints?: readonly SolanaWsEndpointConfig[];
}

interface ProxyWebSocketStats {
  readonly connections: number;
  /** Client subscriptions across connections. */
  readonly clientSubscriptions: number;
  /** Merged upstream subscriptions they share. */
  readonly upstreamSubscriptions: number;
  readonly refused: number;
  readonly slowClientsDropped: number;
  /** Per provider: how often it delivered first and how far behind it was. */
  readonly providers: readonly SolanaStreamEndpointStats[];
}

export interface ProxyWebSocket {
  stats(): ProxyWebSocketStats;
  /** Prometheus text of the stream statistics per provider (appended to `/metrics`). */
  metrics(): string;
  /** Closes every client connection (1001) and every upstream subscription. */
  close(): Promise<void>;
}

function wsUrlOf(url: string | URL): string {
  const parsed = new URL(String(url));
  parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  return parsed.toString();
}

function refuse(socket: Duplex, status: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n${extra}\r\n`, () => socket.destroy());
}

/**
 * The merged subscriptions behind the proxy's WebSocket (no socket is opened before the first subscription). Upstream
 * endpoints default to the HTTP ones over `ws:`/`wss:` under the pool's ids; what `@x/solana-rpc` refuses in them is a
 * `PROXY_INVALID_CONFIG` naming `websocket.<option>`.
 */
function createSubscriptions(
  options: ProxyWebSocketOptions & { readonly rpc: SolanaRpc; readonly httpEndpoints: HttpEndpoints },
): SolanaSubscriptions {
  const endpoints =
    options.endpoints ??
    options.httpEndpoints.flatMap((e, i) =>
      e.url === undefined
        ? []
        : [{ url: wsUrlOf(e.url), id: e.id ?? options.rpc.endpoints[i]?.id, ...(e.headers === undefined ? {} : { headers: e.headers }) }],
    );
  try {
    return createSolanaSubscriptions({
      endpoints,
      rpc: options.rpc,
      ...(options.maxProviders === undefined ? {} : { maxProviders: options.maxProviders }),
    });
  } catch (error) {
    if (isXError(error, 'SOLANA_INVALID_OPTIONS')) {
      throw invalidConfig([{ option: `websocket.${error.context.option}`, message: error.message }], undefined);
    }
    throw error;
  }
}

type HttpEndpoints = ReadonlyArray<{
  readonly url?: string | URL | undefined;
  readonly id?: string;
  readonly headers?: Readonly<Record<string, string>>;
}>;

/**
 * Serves Solana subscriptions over WebSocket on `server`: clients subscribe as they would to a
 * provider; identical subscriptions from several clients share one merged upstream subscription
 * (`@x/solana-rpc`'s hub). Other JSON-RPC methods are forwarded through `rpc` (the HTTP side).
 */
export function attachWebSocket(
  server: Server,
  options: ProxyWebSocketOptions & {
    readonly rpc: SolanaRpc;
    /** The HTTP endpoints; each one with a `url` is subscribed at the same address over `ws:`/`wss:` (one given only as a ready transport has no address to subscribe to). */
    readonly httpEndpoints: HttpEndpoints;
    readonly authorized: ((header: string | undefined) => boolean) | undefined;
    readonly allowed: (method: string) => boolean;
    /** The JSON-RPC error object for a failed forwarded call (secrets redacted). */
    readonly errorOf: (error: unknown) => JsonRpcErrorObject;
  },
): ProxyWebSocket {
  const issues = websocketLimitIssues(options);
  if (issues.length > 0) throw invalidConfig(issues, undefined);
  const subscriptions = createSubscriptions(options);
  const limits = {
    maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection ?? DEFAULT_WEBSOCKET_LIMITS.maxSubscriptionsPerConnection,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_WEBSOCKET_LIMITS.maxMessageBytes,
    maxConnections: options.maxConnections ?? DEFAULT_WEBSOCKET_LIMITS.maxConnections,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_WEBSOCKET_LIMITS.maxBufferedBytes,
  };
  let hub: SubscriptionHub | undefined;
  function hubOf(): SubscriptionHub {
    hub ??= createSubscriptionHub(subscriptions);
    return hub;
  }
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes });
  const sessions = new Map<WebSocket, ReturnType<typeof createSubscriptionSession>>();
  let refused = 0;
  let slowClientsDropped = 0;
  let closing = false;

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (closing) {
      refused++;
      refuse(socket, '503 Service Unavailable');
      return;
    }
    if (path !== '/') {
      refused++;
      refuse(socket, '404 Not Found');
      return;
    }
    if (options.authorized !== undefined && !options.authorized(request.headers.authorization)) {
      refused++;
      refuse(socket, '401 Unauthorized', 'www-authenticate: Bearer realm="rpc-proxy"\r\n');
      return;
    }
    if (sessions.size >= limits.maxConnections) {
      refused++;
      refuse(socket, '503 Service Unavailable');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws));
  }

  function accept(ws: WebSocket): void {
    const send = (message: Record<string, unknown>): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > limits.maxBufferedBytes) {
        slowClientsDropped++;
        ws.close(1008, 'client too slow: send buffer full');
        return;
      }
      ws.send(stringifyJson(message) ?? 'null');
    };
    const session = createSubscriptionSession(hubOf(), {
      send,
      maxSubscriptions: limits.maxSubscriptionsPerConnection,
      onOtherRequest: ({ id, method, params }) => {
        if (!options.allowed(method)) {
          send({
            jsonrpc: '2.0',
            id,
            error: { code: PROXY_RPC_ERROR_CODES.METHOD_NOT_FOUND, message: `Method not found: ${method.slice(0, 64)}` },
          });
          return;
        }
        options.rpc
          .call(method, params as never)
          .then((result) => send({ jsonrpc: '2.0', id, result }))
          .catch((error: unknown) => send({ jsonrpc: '2.0', id, error: options.errorOf(error) }));
      },
    });
    sessions.set(ws, session);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        send({
          jsonrpc: '2.0',
          id: null,
          error: { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid request: send text frames' },
        });
        return;
      }
      let message: unknown;
      try {
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Uint8Array).toString('utf8');
        message = JSON.parse(text) as unknown;
      } catch {
        send({ jsonrpc: '2.0', id: null, error: { code: PROXY_RPC_ERROR_CODES.PARSE_ERROR, message: 'Parse error' } });
        return;
      }
      session.handle(message);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      session.close();
      sessions.delete(ws);
    });
  }

  server.on('upgrade', onUpgrade);

  return {
    stats() {
      let clientSubscriptions = 0;
      for (const session of sessions.values()) clientSubscriptions += session.size;
      return {
        connections: sessions.size,
        clientSubscriptions,
        upstreamSubscriptions: hub?.shared ?? 0,
        refused,
        slowClientsDropped,
        providers: subscriptions.stats(),
      };
    },
    metrics() {
      const providers = subscriptions.stats();
      const lines: string[] = [];
      const metric = (
        name: string,
        type: 'counter' | 'gauge',
        help: string,
        value: (p: SolanaStreamEndpointStats) => number | undefined,
      ): void => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const p of providers) {
          const v = value(p);
          if (v !== undefined) lines.push(`${name}{endpoint="${p.id.replace(/["\\\n]/g, '_')}"} ${v}`);
        }
      };
      metric('rpc_proxy_stream_first_total', 'counter', 'Subscription events this provider delivered first.', (p) => p.first);
      metric(
        'rpc_proxy_stream_late_total',
        'counter',
        'Subscription events this provider delivered after another provider.',
        (p) => p.late,
      );
      metric('rpc_proxy_stream_lag_p50_ms', 'gauge', 'Median delay behind the first copy of an event (0 when first).', (p) => p.lagP50Ms);
      metric('rpc_proxy_stream_lag_p99_ms', 'gauge', '99th percentile delay behind the first copy of an event.', (p) => p.lagP99Ms);
      metric('rpc_proxy_stream_disconnects_total', 'counter', 'WebSocket disconnects of this provider.', (p) => p.disconnects);
      const stats = this.stats();
      lines.push(
        '# HELP rpc_proxy_ws_connections Client WebSocket connections open.',
        '# TYPE rpc_proxy_ws_connections gauge',
        `rpc_proxy_ws_connections ${stats.connections}`,
      );
      lines.push(
        '# HELP rpc_proxy_ws_upstream_subscriptions Merged upstream subscriptions shared by clients.',
        '# TYPE rpc_proxy_ws_upstream_subscriptions gauge',
        `rpc_proxy_ws_upstream_subscriptions ${stats.upstreamSubscriptions}`,
      );
      return `${lines.join('\n')}\n`;
    },
    async close() {
      if (closing) return;
      closing = true;
      server.off('upgrade', onUpgrade);
      for (const [ws, session] of sessions) {
        session.close();
        ws.close(1001, 'proxy shutting down');
      }
      const closed = [...sessions.keys()].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) resolve();
            else {
              const timer = setTimeout(() => ws.terminate(), 1_000);
              ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
            }
          }),
      );
      await Promise.all(closed);
      hub?.close();
      await subscriptions.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
