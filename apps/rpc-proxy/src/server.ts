import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XError, isXError, redactSecrets, secretsOfUrl } from '@x/errors';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaBatchCall, SolanaBatchOutcome, SolanaEndpointConfig, SolanaRpc, SolanaRpcOptions } from '@x/solana-rpc';
import { DEFAULT_LIMITS, invalidConfig } from './config.js';
import type { MethodOverride, ProxyLimits } from './config.js';
import { toRpcError } from './errors.js';
import { createBearerCheck, discardBody, isJsonContentType, readBody, sendJson, sendText } from './http.js';
import { PROXY_RPC_ERROR_CODES, parseBody, rpcError, rpcResult } from './jsonrpc.js';
import type { ParsedCall, RpcErrorObject, RpcId, RpcResponse } from './jsonrpc.js';
import { DEFAULT_ALLOWED_METHODS } from './methods.js';
import { DEFAULT_STATE_MAX_AGE_MS, createStateKeeper, restorePoolState } from './state-file.js';
import { attachWebSocket } from './websocket.js';
import type { ProxyWebSocket, ProxyWebSocketOptions } from './websocket.js';
import type { RestoreOutcome, StateFileOptions, StateKeeper } from './state-file.js';

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
  /** WebSocket subscriptions on the same port (merged across providers); `false` turns them off. Default: on, with default limits. */
  readonly websocket?: ProxyWebSocketOptions | false;
}

/** Counters of the proxy itself, in `/stats`. */
export interface ProxyCounters {
  readonly requests: number;
  readonly calls: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly rejected: number;
  readonly unauthorized: number;
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
  /** The WebSocket side (`undefined` with `websocket: false`): `stats()` is also in `/stats` as `websocket`. */
  readonly websocket: ProxyWebSocket | undefined;
  /** Stops listening, lets requests in flight finish (up to `shutdownGraceMs`), then closes every connection and the client. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 2_000;
/** How much of an oversized body is read and thrown away so that the client can read its 413. */
const OVERSIZED_DRAIN_BYTES = 16 * 1_048_576;
/** Beyond the request's own time limit, so that Node's backstop never pre-empts the proxy's JSON-RPC 408. */
const REQUEST_TIMEOUT_SLACK_MS = 1_000;

function proxyError(code: string, category: 'timeout' | 'aborted', message: string): XError {
  return new XError({ code, category, message });
}

function methodAllowed(allowed: ReadonlySet<string> | undefined, method: string): boolean {
  return allowed === undefined || allowed.has(method);
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

function urlHost(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/**
 * Starts the JSON-RPC proxy: `POST /` forwards through `@x/solana-rpc`, `GET /health`, `/metrics` and
 * `/stats` report on the upstream pool. Rejects with `PROXY_INVALID_CONFIG` for bad options and
 * `PROXY_LISTEN_FAILED` when the address cannot be bound (nothing is left open either way).
 */
export async function createProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const log = options.log ?? ((): void => undefined);

  let rpc: SolanaRpc;
  try {
    rpc = createSolanaMultiRpc({
      ...options.client,
      endpoints: options.endpoints,
      ...(options.methods === undefined ? {} : { methods: options.methods }),
      ...(options.defaults === undefined ? {} : { defaults: options.defaults }),
    });
  } catch (error) {
    // The client validates what only it knows (a write sent with a strategy that would repeat it…);
    // to the user that is still a configuration field.
    if (isXError(error) && error.category === 'config') {
      const named = error.context['field'] ?? error.context['option'];
      const field = typeof named === 'string' ? named : 'endpoints';
      const prefix = `${field}: `;
      const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      throw invalidConfig([{ field, message }], undefined);
    }
    throw error;
  }

  const secrets = [
    // Header values are credentials too; short ones (`1`, `true`) would only mangle messages.
    ...options.endpoints.flatMap((endpoint) => [...secretsOfUrl(endpoint.url), ...Object.values(endpoint.headers ?? {}).filter((value) => value.length >= 8)]),
    ...(options.token === undefined ? [] : [options.token]),
  ];
  const allowed = options.allowAnyMethod === true
    ? undefined
    : new Set([...DEFAULT_ALLOWED_METHODS, ...Object.keys(options.methods ?? {}), ...(options.allowMethods ?? [])]);
  const authorized = options.token === undefined ? undefined : createBearerCheck(options.token);

  const counters = { requests: 0, calls: 0, succeeded: 0, failed: 0, rejected: 0, unauthorized: 0 };
  const inFlight = new Set<{ readonly controller: AbortController; readonly done: Promise<void> }>();
  let closing = false;

  /** Checks one call before it is forwarded: the answer it gets at once (a rejection), or `forward`. */
  function admit(call: ParsedCall): { readonly answer: RpcResponse | undefined } | 'forward' {
    counters.calls += 1;
    if (!call.valid) {
      counters.rejected += 1;
      return { answer: rpcError(call.id, call.error) };
    }
    if (!methodAllowed(allowed, call.method)) {
      counters.rejected += 1;
      const shown = call.method.length > 64 ? `${call.method.slice(0, 64)}…` : call.method;
      const error: RpcErrorObject = { code: PROXY_RPC_ERROR_CODES.METHOD_NOT_FOUND, message: `Method not found: ${shown} is not forwarded by this proxy` };
      return { answer: call.id === undefined ? undefined : rpcError(call.id, error) };
    }
    return 'forward';
  }

  /** The answer to a forwarded call (none for a notification), counted. */
  function answerOf(id: RpcId | undefined, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }, signal: AbortSignal): RpcResponse | undefined {
    let response: RpcResponse;
    if (outcome.ok) {
      counters.succeeded += 1;
      response = rpcResult(id ?? null, outcome.value);
    } else {
      counters.failed += 1;
      const { error } = outcome;
      const timedOut = isXError(error, 'PROXY_REQUEST_TIMEOUT') || (signal.aborted && isXError(signal.reason, 'PROXY_REQUEST_TIMEOUT'));
      response = rpcError(id ?? null, toRpcError(error, secrets, { timedOut }));
    }
    return id === undefined ? undefined : response;
  }

  async function forward(call: ParsedCall, signal: AbortSignal): Promise<RpcResponse | undefined> {
    const admitted = admit(call);
    if (admitted !== 'forward') return admitted.answer;
    if (!call.valid) return undefined;
    try {
      return answerOf(call.id, { ok: true, value: await rpc.call(call.method, call.params, { signal }) }, signal);
    } catch (error) {
      return answerOf(call.id, { ok: false, error }, signal);
    }
  }

  /**
   * A batch goes to `callBatch` of `@x/solana-rpc`: calls of race, hedge and single methods travel
   * upstream as one JSON-RPC batch, the others on their own; answers come back in request order.
   */
  async function forwardBatch(calls: readonly ParsedCall[], signal: AbortSignal): Promise<RpcResponse[]> {
    const answers = new Array<RpcResponse | undefined>(calls.length);
    const sent: Array<{ readonly position: number; readonly id: RpcId | undefined; readonly call: SolanaBatchCall }> = [];
    calls.forEach((call, position) => {
      const admitted = admit(call);
      if (admitted !== 'forward') answers[position] = admitted.answer;
      else if (call.valid) sent.push({ position, id: call.id, call: call.params === undefined ? { method: call.method } : { method: call.method, params: call.params } });
    });
    if (sent.length > 0) {
      const outcomes = await rpc.callBatch(sent.map((entry) => entry.call), { signal });
      sent.forEach((entry, index) => {
        answers[entry.position] = answerOf(entry.id, outcomes[index] as SolanaBatchOutcome, signal);
      });
    }
    return answers.filter((answer): answer is RpcResponse => answer !== undefined);
  }

  async function handleRpc(request: IncomingMessage, response: ServerResponse, controller: AbortController): Promise<void> {
    if (!isJsonContentType(request.headers['content-type'])) {
      counters.rejected += 1;
      sendJson(
        response,
        415,
        rpcError(null, { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid request: the content type must be application/json' }),
        { connection: 'close' },
      );
      return;
    }
    const body = await readBody(request, limits.maxBodyBytes, controller.signal);
    if (!body.ok) {
      counters.rejected += 1;
      // The rest of the body is never read, so the connection cannot carry another request.
      const close = { connection: 'close' };
      if (body.reason === 'too-large') {
        // Answering while the client still writes would reset the connection under the answer.
        await discardBody(request, OVERSIZED_DRAIN_BYTES, controller.signal);
        sendJson(
          response,
          413,
          rpcError(null, {
            code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST,
            message: `Invalid request: the body exceeds ${limits.maxBodyBytes} bytes`,
            data: { maxBodyBytes: limits.maxBodyBytes },
          }),
          close,
        );
      } else if (body.reason === 'invalid-utf8') {
        sendJson(response, 200, rpcError(null, { code: PROXY_RPC_ERROR_CODES.PARSE_ERROR, message: 'Parse error: the body is not valid UTF-8' }));
      } else if (isXError(controller.signal.reason, 'PROXY_REQUEST_TIMEOUT')) {
        sendJson(response, 408, rpcError(null, { code: PROXY_RPC_ERROR_CODES.UPSTREAM_TIMEOUT, message: 'Request time limit exceeded while reading the body' }), close);
      } else {
        sendJson(response, 503, rpcError(null, { code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR, message: 'The proxy is shutting down' }), close);
      }
      return;
    }
    const parsed = parseBody(body.text, limits.maxBatchSize);
    if (parsed.kind === 'error') {
      counters.rejected += 1;
      sendJson(response, 200, rpcError(null, parsed.error));
      return;
    }
    if (parsed.kind === 'single') {
      const answer = await forward(parsed.call, controller.signal);
      if (answer === undefined) sendText(response, 204, '', 'application/json');
      else sendJson(response, 200, answer);
      return;
    }
    const answers = await forwardBatch(parsed.calls, controller.signal);
    if (answers.length === 0) sendText(response, 204, '', 'application/json');
    else sendJson(response, 200, answers);
  }

  function handleHealth(response: ServerResponse): void {
    const snapshot = rpc.pool.snapshot();
    const healthy = snapshot.endpoints.filter((endpoint) => endpoint.health === 'healthy').length;
    sendJson(response, healthy > 0 ? 200 : 503, {
      status: healthy > 0 ? 'ok' : 'unavailable',
      healthy,
      total: snapshot.endpoints.length,
      slotWatermark: rpc.slotWatermark() ?? null,
      endpoints: snapshot.endpoints.map((endpoint) => ({
        id: endpoint.id,
        label: endpoint.label,
        health: endpoint.health,
        available: endpoint.available,
      })),
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    counters.requests += 1;
    const path = (request.url ?? '/').split('?', 1)[0];
    const isRpc = path === '/';
    if (closing) {
      sendJson(response, 503, isRpc ? rpcError(null, { code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR, message: 'The proxy is shutting down' }) : { error: 'shutting down' }, {
        connection: 'close',
      });
      return;
    }
    if (authorized !== undefined && !authorized(request.headers.authorization)) {
      counters.unauthorized += 1;
      const body = isRpc
        ? rpcError(null, { code: PROXY_RPC_ERROR_CODES.UNAUTHORIZED, message: 'Unauthorized: send "Authorization: Bearer <token>"' })
        : { error: 'unauthorized' };
      sendJson(response, 401, body, { 'www-authenticate': 'Bearer realm="rpc-proxy"', connection: 'close' });
      return;
    }
    if (isRpc) {
      if (request.method !== 'POST') {
        sendJson(response, 405, rpcError(null, { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid request: use POST' }), { allow: 'POST' });
        return;
      }
      await track(request, response);
      return;
    }
    if (path !== '/health' && path !== '/metrics' && path !== '/stats') {
      sendJson(response, 404, { error: 'not found', routes: ['POST /', 'GET /health', 'GET /metrics', 'GET /stats'] });
      return;
    }
    if (request.method !== 'GET') {
      sendJson(response, 405, { error: 'method not allowed' }, { allow: 'GET' });
      return;
    }
    if (path === '/health') handleHealth(response);
    else if (path === '/metrics') sendText(response, 200, `${await rpc.pool.metrics()}${websocket?.metrics() ?? ''}`, rpc.pool.registry.contentType);
    else sendJson(response, 200, { proxy: { ...counters }, slotWatermark: rpc.slotWatermark() ?? null, pool: rpc.pool.snapshot(), websocket: websocket?.stats() ?? null });
  }

  /** Runs one JSON-RPC request under its own deadline and abort controller, known to `close()`. */
  async function track(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(proxyError('PROXY_REQUEST_TIMEOUT', 'timeout', `Request time limit of ${limits.requestTimeoutMs} ms exceeded`));
    }, limits.requestTimeoutMs);
    // A client that goes away cancels its calls upstream: nobody is left to read the answer.
    const onClose = (): void => {
      if (!response.writableFinished) controller.abort(proxyError('PROXY_CLIENT_GONE', 'aborted', 'The client closed the connection'));
    };
    response.once('close', onClose);
    let settle: () => void = () => undefined;
    const entry = { controller, done: new Promise<void>((resolve) => (settle = resolve)) };
    inFlight.add(entry);
    try {
      await handleRpc(request, response, controller);
    } finally {
      clearTimeout(timer);
      response.off('close', onClose);
      inFlight.delete(entry);
      settle();
    }
  }

  const nodeRequestTimeoutMs = limits.requestTimeoutMs + REQUEST_TIMEOUT_SLACK_MS;
  const server = createServer({
    // A client must send its request line and headers within headersTimeoutMs, however slowly the
    // bytes come (one a second keeps a socket busy but never idle), and its whole request within the
    // request's own time limit. Node checks both every connectionsCheckingInterval.
    headersTimeout: Math.min(limits.headersTimeoutMs, nodeRequestTimeoutMs),
    requestTimeout: nodeRequestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`internal error: ${redactSecrets(error instanceof Error ? error.message : String(error), secrets)}`);
      sendJson(response, 500, rpcError(null, { code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR, message: 'Internal error' }), { connection: 'close' });
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // Destroyed once written: a client still trickling bytes must not keep the socket half open.
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
  });

  const websocket: ProxyWebSocket | undefined = options.websocket === false ? undefined : attachWebSocket(server, {
    ...options.websocket,
    rpc,
    httpEndpoints: options.endpoints,
    authorized,
    allowed: (method) => methodAllowed(allowed, method),
    errorOf: (error) => toRpcError(error, secrets, { timedOut: false }),
  });

  let stateRestore: RestoreOutcome | undefined;
  if (options.stateFile !== undefined) {
    const { path, maxAgeMs = DEFAULT_STATE_MAX_AGE_MS } = options.stateFile;
    stateRestore = await restorePoolState(rpc.pool, path, maxAgeMs);
    if (stateRestore.kind === 'restored') log(`state restored from ${path} (${Math.round(stateRestore.ageMs / 1000)} s old): ${stateRestore.imported.join(', ') || 'no endpoint'}`);
    else if (stateRestore.kind === 'stale') log(`state file ${path} is ${Math.round(stateRestore.ageMs / 1000)} s old, older than ${Math.round(maxAgeMs / 1000)} s: starting cold`);
    else if (stateRestore.kind === 'invalid') log(`state file ${path} ignored, starting cold: ${stateRestore.reason}`);
  }

  let address: AddressInfo;
  try {
    address = await listen(server, host, port);
  } catch (error) {
    await websocket?.close();
    await rpc.close();
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    throw new XError({
      code: 'PROXY_LISTEN_FAILED',
      category: 'network',
      message: `Cannot listen on ${host}:${port}: ${code}`,
      context: { host, port, causeCode: code },
      cause: error,
    });
  }

  const keeper: StateKeeper | undefined = options.stateFile === undefined ? undefined : createStateKeeper(rpc.pool, options.stateFile, log);

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const pending = [...inFlight];
      if (pending.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([Promise.all(pending.map((entry) => entry.done)), grace]);
        clearTimeout(timer);
        const shutdown = proxyError('PROXY_SHUTTING_DOWN', 'aborted', 'The proxy is shutting down');
        for (const entry of inFlight) entry.controller.abort(shutdown);
        await Promise.all([...inFlight].map((entry) => entry.done));
      }
      await websocket?.close();
      server.closeAllConnections();
      await stopped;
      // Saved once every call is over: the last state is the best one to start from.
      await keeper?.stop().catch((error: unknown) => log(error instanceof Error ? error.message : String(error)));
      await rpc.close();
    })();
    return closed;
  };

  const boundHost = urlHost(address);
  return {
    url: `http://${boundHost}:${address.port}`,
    host: address.address,
    port: address.port,
    rpc,
    counters: () => ({ ...counters }),
    stateRestore,
    websocket,
    close,
  };
}
