import { createRedisBudgetStore } from '@x/budget-redis';
import { XError, isXError } from '@x/errors';
import type { BudgetStore } from '@x/pool';
import type { SolanaEndpointConfig, SolanaRpc, SolanaRpcOptions } from '@x/solana-rpc';
import { DEFAULT_KEY_PREFIX, DEFAULT_LIMITS, cacheLimitsOf, invalidConfig } from './config.js';
import type { CacheLimits, MethodOverride, ProxyLimits, SharedStateConfig } from './config.js';
import { createCounters } from './counters.js';
import type { ProxyCounters } from './counters.js';
import { createForwarder } from './forward.js';
import { createBearerCheck } from './http.js';
import { createInFlight } from './in-flight.js';
import { DEFAULT_ALLOWED_METHODS } from './methods.js';
import { createNodeServer, listen, urlHost } from './node-server.js';
import { createRouter } from './router.js';
import { createRpcRoute } from './rpc-route.js';
import { createStateKeeper, restoreAtStart } from './state-file.js';
import type { RestoreOutcome, StateFileOptions } from './state-file.js';
import { createSharing } from './sharing.js';
import { createUpstream, secretsOf } from './upstream.js';
import type { UpstreamTraffic } from './upstream.js';
import { attachWebSocket } from './websocket.js';
import { websocketLimitIssues } from './websocket-limits.js';
import type { ProxyWebSocket, ProxyWebSocketOptions } from './websocket.js';
import { toRpcError } from './errors.js';

export interface ProxyServerOptions {
  /** Upstream endpoints, as `@x/solana-rpc` takes them. */
  readonly endpoints: readonly SolanaEndpointConfig[];
  /** Per-method strategy settings over `@x/solana-rpc`'s presets; their keys are allowed methods too. */
  readonly methods?: Readonly<Record<string, MethodOverride>>;
  /** Settings of methods without a preset. */
  readonly defaults?: MethodOverride;
  /** Methods forwarded besides {@link DEFAULT_ALLOWED_METHODS} and the keys of `methods`. */
  readonly allowMethods?: readonly string[];
  /** Forward every method name. Default false: others get -32601. */
  readonly allowAnyMethod?: boolean;
  readonly limits?: Partial<ProxyLimits>;
  /** When set, every route requires `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: an ephemeral port (see `url`). */
  readonly port?: number;
  /** How long `close()` lets requests in flight finish before cutting them off. Default 2000 ms. */
  readonly shutdownGraceMs?: number;
  /** Tuning of the client underneath (pool, HTTP transport, slot lag). */
  readonly client?: Pick<SolanaRpcOptions, 'maxSlotLag' | 'pool' | 'http'>;
  /** Operator messages (never secrets). Default: none. */
  readonly log?: (line: string) => void;
  /**
   * Keeps the pool's learned state (health, latency, errors per endpoint) in a file: restored before the
   * first call, saved atomically every `saveEveryMs` and at `close()`. Default: none (a cold start).
   */
  readonly stateFile?: StateFileOptions;
  /**
   * Budgets and endpoint holds (cool-downs, ejections) shared with the other replicas through Redis
   * (`@x/budget-redis`); `keyPrefix` defaults to `rpc-proxy:`. Default: this process's own, in memory.
   */
  readonly sharedState?: { readonly redis: Omit<SharedStateConfig['redis'], 'keyPrefix'> & { readonly keyPrefix?: string } };
  /** WebSocket subscriptions on the same port (merged across providers); `false` turns them off. Default: on, with default limits. */
  readonly websocket?: ProxyWebSocketOptions | false;
  // ---- Upstream sharing (issue 17: batching, coalescing, cache) ----
  /** Identical reads in flight at the same moment share one upstream call. Default true. */
  readonly coalesce?: boolean;
  /** Caches answers that can never change (finalized transactions and blocks), within these bounds. Default: off. */
  readonly cache?: Partial<CacheLimits>;
  // ---- end of upstream sharing ----
}

export interface ProxyServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The `@x/solana-rpc` client calls go through (its `pool` holds the statistics). */
  readonly rpc: SolanaRpc;
  readonly counters: () => ProxyCounters;
  /** How the state file was restored at start; `undefined` without `stateFile`. */
  readonly stateRestore: RestoreOutcome | undefined;
  /** Where the pool's budgets and holds live: the Redis store with `sharedState`, else `undefined` (the pool's own). */
  readonly budgetStore: BudgetStore | undefined;
  /** The WebSocket side (`undefined` with `websocket: false`): `stats()` is also in `/stats` as `websocket`. */
  readonly websocket: ProxyWebSocket | undefined;
  /** Stops listening, lets requests in flight finish (up to `shutdownGraceMs`), then closes every connection and the client. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 2_000;

/**
 * Starts the JSON-RPC proxy: `POST /` forwards through `@x/solana-rpc`, `GET /health`, `/metrics` and
 * `/stats` report on the upstream pool. Rejects with `PROXY_INVALID_CONFIG` for bad options and
 * `PROXY_LISTEN_FAILED` when the address cannot be bound (nothing is left open either way).
 */
export async function createProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...options.limits };
  // Checked before anything is created: a bad limit leaves nothing open.
  const websocketIssues = options.websocket === undefined || options.websocket === false ? [] : websocketLimitIssues(options.websocket);
  if (websocketIssues.length > 0) throw invalidConfig(websocketIssues, undefined);
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((): void => undefined);
  // ---- Upstream sharing (issue 17) ----
  const cacheLimits = cacheLimitsOf(options.cache);
  const traffic: UpstreamTraffic = { requests: [], calls: [] };
  // ---- end of upstream sharing ----
  const redis = options.sharedState?.redis;
  // Resolves once connected, or degraded after its connect timeout (it keeps trying): never fails for Redis being away.
  const budgetStore =
    redis === undefined
      ? undefined
      : await createRedisBudgetStore({
          url: redis.url,
          keyPrefix: redis.keyPrefix ?? DEFAULT_KEY_PREFIX,
          ...(redis.replicas === undefined ? {} : { replicas: redis.replicas }),
        }).catch((error: unknown) => {
          if (!isXError(error, 'BUDGET_REDIS_INVALID_OPTIONS')) throw error;
          const option = `sharedState.redis.${error.context.option}`;
          throw new XError({
            code: 'PROXY_INVALID_CONFIG',
            category: 'config',
            message: `Invalid configuration: ${option}: ${error.message}`,
            context: { option, issues: [{ option, message: error.message }] },
            cause: error,
          });
        });
  let rpc: SolanaRpc;
  try {
    rpc = createUpstream(options, traffic, budgetStore);
  } catch (error) {
    await budgetStore?.close();
    throw error;
  }
  if (budgetStore !== undefined) log(`budgets: ${budgetStore.status().mode} (${budgetStore.status().detail ?? ''})`);
  const sharing = createSharing(rpc, traffic, options.coalesce ?? true, cacheLimits);
  const wsEndpoints = options.websocket === false ? [] : (options.websocket?.endpoints ?? []);
  const secrets = secretsOf([...options.endpoints, ...wsEndpoints.map((e) => ({ url: String(e.url), headers: e.headers }))], options.token);
  const allowed =
    options.allowAnyMethod === true
      ? undefined
      : new Set([...DEFAULT_ALLOWED_METHODS, ...Object.keys(options.methods ?? {}), ...(options.allowMethods ?? [])]);

  const counters = createCounters();
  const inFlight = createInFlight(limits.requestDeadlineMs);
  const rpcRoute = createRpcRoute(limits, counters, createForwarder({ shared: sharing.shared, allowed, secrets, counters }));
  let closing = false;
  const authorized = options.token === undefined ? undefined : createBearerCheck(options.token);
  const router = createRouter({
    rpc,
    counters,
    sharing,
    authorized,
    // Read per request, once the server below exists.
    websocket: () => websocket,
    budgets: () => budgetStore?.status() ?? { mode: 'local' },
    isClosing: () => closing,
    rpcRoute: (request, response) => inFlight.track(response, (controller) => rpcRoute(request, response, controller)),
  });
  const server = createNodeServer(limits, router, log, secrets);
  let websocket: ProxyWebSocket | undefined;
  try {
    websocket =
      options.websocket === false
        ? undefined
        : attachWebSocket(server, {
            ...options.websocket,
            rpc,
            httpEndpoints: options.endpoints,
            authorized,
            allowed: (method) => allowed === undefined || allowed.has(method),
            errorOf: (error) => toRpcError(error, secrets, { timedOut: false }),
          });
  } catch (error) {
    await rpc.close();
    // The Redis connection and its heartbeat would otherwise keep the process alive (and count a replica that never served).
    await budgetStore?.close();
    throw error;
  }

  const stateRestore = options.stateFile === undefined ? undefined : await restoreAtStart(rpc.pool, options.stateFile, log);
  const address = await listen(server, host, options.port ?? 0).catch(async (error: unknown) => {
    await websocket?.close();
    await rpc.close();
    await budgetStore?.close();
    throw error;
  });
  const keeper = options.stateFile === undefined ? undefined : createStateKeeper(rpc.pool, options.stateFile, log);

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await inFlight.drain(options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      await websocket?.close();
      server.closeAllConnections();
      await stopped;
      // Saved once every call is over: the last state is the best one to start from.
      await keeper?.stop().catch((error: unknown) => log(error instanceof Error ? error.message : String(error)));
      await rpc.close();
      await budgetStore?.close();
    })();
    return closed;
  };

  return {
    url: `http://${urlHost(address)}:${address.port}`,
    host: address.address,
    port: address.port,
    rpc,
    counters: () => ({ ...counters }),
    stateRestore,
    budgetStore,
    websocket,
    close,
  };
}
