import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse } from '@x/json-rpc';
import type { BudgetStoreStatus } from '@x/pool';
import type { SolanaRpc } from '@x/solana-rpc';
import type { MutableCounters } from './counters.js';
import { sendJson, sendText } from './http.js';
import { PROXY_RPC_ERROR_CODES } from './jsonrpc.js';
import type { ProxyWebSocket } from './websocket.js';

export type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface RouterOptions {
  readonly rpc: SolanaRpc;
  readonly counters: MutableCounters;
  /** Checks `Authorization`; `undefined` when no token is required. */
  readonly authorized: ((header: string | undefined) => boolean) | undefined;
  readonly isClosing: () => boolean;
  /** The WebSocket side, when on: its statistics join `/stats` and `/metrics`. */
  readonly websocket: () => ProxyWebSocket | undefined;
  /** Where the budgets live now: `local`, `shared` (Redis) or `degraded` (Redis away: this replica's share), and why. */
  readonly budgets: () => BudgetStoreStatus;
  /** `POST /`, already checked for shutdown and authorization. */
  readonly rpcRoute: Handler;
}

const ROUTES: readonly string[] = Object.freeze(['POST /', 'GET /health', 'GET /metrics', 'GET /stats']);

function health(rpc: SolanaRpc, budgets: BudgetStoreStatus, response: ServerResponse): void {
  const snapshot = rpc.pool.snapshot();
  const healthy = snapshot.endpoints.filter((endpoint) => endpoint.health === 'healthy').length;
  sendJson(response, healthy > 0 ? 200 : 503, {
    status: healthy > 0 ? 'ok' : 'unavailable',
    healthy,
    total: snapshot.endpoints.length,
    slotWatermark: rpc.slotWatermark() ?? null,
    // Degraded budgets still serve calls (on this replica's share): reported, not a 503.
    budgets,
    endpoints: snapshot.endpoints.map((endpoint) => ({
      id: endpoint.id,
      label: endpoint.label,
      health: endpoint.health,
      available: endpoint.available,
    })),
  });
}

/** The budget store's mode as Prometheus gauges: one series per mode (1 for the current one), and the share served. */
function budgetMetrics(status: BudgetStoreStatus): string {
  const lines = [
    '# HELP rpc_proxy_budget_store_mode Where the budgets live: 1 for the current mode (degraded: Redis unreachable, serving this replica share).',
    '# TYPE rpc_proxy_budget_store_mode gauge',
    ...(['local', 'shared', 'degraded'] as const).map(
      (mode) => `rpc_proxy_budget_store_mode{mode="${mode}"} ${status.mode === mode ? 1 : 0}`,
    ),
  ];
  if (status.share !== undefined) {
    lines.push(
      '# HELP rpc_proxy_budget_share Share of every budget this replica serves on while Redis is unreachable.',
      '# TYPE rpc_proxy_budget_share gauge',
      `rpc_proxy_budget_share ${status.share}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Every HTTP request: shutdown and bearer checks first, then `POST /` (JSON-RPC) or the `GET` reports on the pool. */
export function createRouter(options: RouterOptions): Handler {
  const { rpc, counters, authorized, isClosing, rpcRoute, websocket, budgets } = options;
  return async (request, response) => {
    counters.requests += 1;
    const path = (request.url ?? '/').split('?', 1)[0];
    const isRpc = path === '/';
    if (isClosing()) {
      const body = isRpc
        ? errorResponse(null, { code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR, message: 'The proxy is shutting down' })
        : { error: 'shutting down' };
      sendJson(response, 503, body, { connection: 'close' });
      return;
    }
    if (authorized !== undefined && !authorized(request.headers.authorization)) {
      counters.unauthorized += 1;
      const body = isRpc
        ? errorResponse(null, { code: PROXY_RPC_ERROR_CODES.UNAUTHORIZED, message: 'Unauthorized: send "Authorization: Bearer <token>"' })
        : { error: 'unauthorized' };
      sendJson(response, 401, body, { 'www-authenticate': 'Bearer realm="rpc-proxy"', connection: 'close' });
      return;
    }
    if (isRpc) {
      if (request.method === 'POST') await rpcRoute(request, response);
      else
        sendJson(
          response,
          405,
          errorResponse(null, { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid request: use POST' }),
          { allow: 'POST' },
        );
      return;
    }
    if (path !== '/health' && path !== '/metrics' && path !== '/stats') {
      sendJson(response, 404, { error: 'not found', routes: ROUTES });
      return;
    }
    if (request.method !== 'GET') {
      sendJson(response, 405, { error: 'method not allowed' }, { allow: 'GET' });
      return;
    }
    if (path === '/health') health(rpc, budgets(), response);
    else if (path === '/metrics')
      sendText(
        response,
        200,
        `${await rpc.pool.metrics()}${websocket()?.metrics() ?? ''}${budgetMetrics(budgets())}`,
        rpc.pool.registry.contentType,
      );
    else
      sendJson(response, 200, {
        proxy: { ...counters },
        slotWatermark: rpc.slotWatermark() ?? null,
        pool: rpc.pool.snapshot(),
        websocket: websocket()?.stats() ?? null,
      });
  };
}
