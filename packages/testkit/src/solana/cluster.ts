import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { XError, toXError } from '@x/errors';
import { createRandom, type Random, type RandomSeed } from '../random.js';
import {
  createTokenBucket,
  resolveBehavior,
  sampleLatencyMs,
  type RpcBehaviorPatch,
  type RpcEndpointBehavior,
  type TokenBucket,
} from './behavior.js';
import { createChain, type ChainState, type SimulatedChain } from './chain.js';
import { errorResponse, parseRequestBody, resultResponse, stringifyJson, type ParsedRequest, type ParsedRequestBody } from '@x/json-rpc';
import { INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR } from './jsonrpc.js';
import { HEALTH_SLOT_DISTANCE, executeCall, type CallView } from './methods.js';
import { resolveClusterOptions, type RpcClusterOptions, type RpcRequestEvent } from './options.js';
import { handlesReleased } from '../handles.js';
import {
  answerAfter,
  listenOnLoopback,
  LOOPBACK_HOST as HOST,
  notifyObserver,
  readBody,
  SERVER_ERROR_STATUSES,
  STATUS_TEXT,
} from '../serving.js';
import { createStreamHub, type RpcStreamStats } from './streams.js';

/** Where one simulated endpoint listens. */
export interface RpcEndpointInfo {
  readonly id: string;
  /** `http://127.0.0.1:<port>`: POST JSON-RPC here (any path); `GET /health` answers like a Solana node. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>`: the subscription methods over WebSocket, on the same port (any path). */
  readonly wsUrl: string;
  readonly host: string;
  readonly port: number;
}

/** How HTTP requests ended, by kind. */
export type RpcResponseKind = 'ok' | 'rpc-error' | 'server-error' | 'rate-limited' | 'hung' | 'rejected';

export interface RpcEndpointStats {
  readonly id: string;
  /** HTTP requests received (a batch counts once), including rejected ones. */
  readonly requests: number;
  /** JSON-RPC calls in them (each batch entry counts). */
  readonly calls: number;
  /** Calls per method name (names beyond the first 64 distinct ones are counted under `(other)`). */
  readonly methods: Readonly<Record<string, number>>;
  /**
   * Requests by how they ended: `ok` answered (the answer may still carry JSON-RPC errors the
   * request itself caused, such as invalid params), `rpc-error` injected -32603, `server-error`
   * injected HTTP 5xx, `rate-limited` HTTP 429, `hung` never answered, `rejected` HTTP 405/413.
   */
  readonly responses: Readonly<Record<RpcResponseKind, number>>;
  /** Calls answered with altered values. */
  readonly lies: number;
  /** Requests whose client went away before the answer was due. */
  readonly aborted: number;
  /** Connections reset because the endpoint was down. */
  readonly connectionsReset: number;
  /** Its WebSocket: connections, live subscriptions, notifications and the faults applied to them. */
  readonly stream: RpcStreamStats;
}

export interface RpcCluster {
  readonly endpoints: readonly RpcEndpointInfo[];
  /** The one chain every endpoint serves. */
  readonly chain: SimulatedChain;
  readonly seed: RandomSeed;
  /** An endpoint's current behaviour. */
  readonly behavior: (id: string) => RpcEndpointBehavior;
  /** Changes an endpoint live; requests already waiting keep the fate they drew. Returns the new behaviour. */
  readonly setBehavior: (id: string, patch: RpcBehaviorPatch) => RpcEndpointBehavior;
  /** `stats()`: every endpoint, in endpoint order; `stats(id)`: one endpoint. */
  readonly stats: {
    (): readonly RpcEndpointStats[];
    (id: string): RpcEndpointStats;
  };
  /** Zeroes every endpoint's statistics (between phases of a benchmark, say). */
  readonly resetStats: () => void;
  /** Drops every WebSocket connection of an endpoint at once, without a close frame; returns how many there were. */
  readonly disconnectStreams: (id: string) => number;
  /** Stops the slot timer, every pending answer and every connection, and stops listening. Idempotent. */
  readonly close: () => Promise<void>;
}

const MAX_METHOD_NAMES = 64;

interface MutableStats {
  requests: number;
  calls: number;
  methods: Map<string, number>;
  responses: Record<RpcResponseKind, number>;
  lies: number;
  aborted: number;
  connectionsReset: number;
}

function emptyStats(): MutableStats {
  return {
    requests: 0,
    calls: 0,
    methods: new Map(),
    responses: { ok: 0, 'rpc-error': 0, 'server-error': 0, 'rate-limited': 0, hung: 0, rejected: 0 },
    lies: 0,
    aborted: 0,
    connectionsReset: 0,
  };
}

interface Endpoint {
  readonly id: string;
  readonly server: Server;
  readonly sockets: Set<Socket>;
  readonly timers: Set<NodeJS.Timeout>;
  readonly latencyRandom: Random;
  readonly errorRandom: Random;
  readonly lieRandom: Random;
  behavior: RpcEndpointBehavior;
  bucket: TokenBucket | undefined;
  stats: MutableStats;
  info: RpcEndpointInfo | undefined;
}

/** What a request amounts to once read: JSON-RPC calls, or the `GET /health` probe. */
type Work = { readonly kind: 'rpc'; readonly envelope: ParsedRequestBody } | { readonly kind: 'health' };

type Fate =
  | { readonly kind: 'ok'; readonly lieSeeds: ReadonlyMap<ParsedRequest, number> }
  | { readonly kind: 'rpc-error' }
  | { readonly kind: 'server-error'; readonly status: number }
  | { readonly kind: 'rate-limited'; readonly retryAfterSeconds: number };

function entriesOf(work: Work): readonly ParsedRequest[] {
  if (work.kind === 'health') return [];
  if (work.envelope.kind === 'single') return [work.envelope.request];
  if (work.envelope.kind === 'batch') return work.envelope.requests;
  return [];
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  send(
    res,
    status,
    { 'content-type': 'application/json; charset=utf-8', ...headers },
    payload === undefined ? '' : (stringifyJson(payload) ?? ''),
  );
}

/**
 * Starts N simulated Solana (and EVM-compatible) JSON-RPC endpoints on 127.0.0.1 ephemeral ports,
 * sharing one simulated chain. Resolves once every endpoint listens.
 */
export async function startRpcCluster(options?: RpcClusterOptions): Promise<RpcCluster> {
  const resolved = resolveClusterOptions(options);
  const root = createRandom(resolved.seed);
  const chain: ChainState = createChain(root.fork('chain'), { ...resolved.chain, slotMs: resolved.slotMs });
  const endpoints: Endpoint[] = [];
  const streams = createStreamHub(chain, { maxPayload: resolved.maxBodyBytes, now: resolved.now });
  let closed = false;
  let closing: Promise<void> | undefined;
  let slotTimer: NodeJS.Timeout | undefined;

  function emit(event: RpcRequestEvent): void {
    notifyObserver(resolved.onRequest, event);
  }

  function countMethod(stats: MutableStats, method: string): void {
    const name = stats.methods.has(method) || stats.methods.size < MAX_METHOD_NAMES ? method : '(other)';
    stats.methods.set(name, (stats.methods.get(name) ?? 0) + 1);
  }

  function viewSlot(endpoint: Endpoint): number {
    return Math.max(chain.oldestSlot(), chain.slot() - endpoint.behavior.slotLag);
  }

  function answerEntry(entry: ParsedRequest, view: Omit<CallView, 'lie'>, lieSeed: number | undefined, stats: MutableStats): unknown {
    if (!entry.valid) return errorResponse(entry.id, INVALID_REQUEST);
    const outcome = executeCall(entry.method, entry.params, { ...view, lie: lieSeed === undefined ? undefined : createRandom(lieSeed) });
    if (entry.id === undefined) return undefined;
    if (!outcome.ok) return errorResponse(entry.id, outcome.error);
    if (outcome.lied) stats.lies++;
    return resultResponse(entry.id, outcome.result);
  }

  function rpcPayload(envelope: ParsedRequestBody, answer: (entry: ParsedRequest) => unknown): unknown {
    switch (envelope.kind) {
      case 'error':
        return errorResponse(null, envelope.reason === 'parse' ? PARSE_ERROR : INVALID_REQUEST);
      case 'single':
        return answer(envelope.request);
      case 'batch': {
        const answers = envelope.requests.map(answer).filter((item) => item !== undefined);
        // A batch of notifications only gets nothing back, as JSON-RPC 2.0 says.
        return answers.length === 0 ? undefined : answers;
      }
    }
  }

  function respond(endpoint: Endpoint, res: ServerResponse, work: Work, fate: Fate): void {
    const { stats } = endpoint;
    stats.responses[fate.kind]++;
    if (fate.kind === 'rate-limited') {
      sendJson(res, 429, errorResponse(null, { code: 429, message: 'Too many requests' }), {
        'retry-after': String(fate.retryAfterSeconds),
      });
      return;
    }
    if (fate.kind === 'server-error') {
      send(res, fate.status, { 'content-type': 'text/plain; charset=utf-8' }, STATUS_TEXT[fate.status] ?? 'Server Error');
      return;
    }
    if (work.kind === 'health') {
      // drawFate turns an injected error on GET /health into an HTTP 5xx, so this is the answer.
      const behind = chain.slot() - viewSlot(endpoint);
      send(res, 200, { 'content-type': 'text/plain; charset=utf-8' }, behind > HEALTH_SLOT_DISTANCE ? 'behind' : 'ok');
      return;
    }
    if (fate.kind === 'rpc-error') {
      sendJson(
        res,
        200,
        rpcPayload(work.envelope, (entry) => {
          if (!entry.valid) return errorResponse(entry.id, INVALID_REQUEST);
          return entry.id === undefined ? undefined : errorResponse(entry.id, INTERNAL_ERROR);
        }),
      );
      return;
    }
    const view: Omit<CallView, 'lie'> = {
      chain,
      slot: viewSlot(endpoint),
      submit: (wire) => chain.submitTransaction(wire),
    };
    sendJson(
      res,
      200,
      rpcPayload(work.envelope, (entry) => answerEntry(entry, view, fate.lieSeeds.get(entry), stats)),
    );
  }

  function drawFate(endpoint: Endpoint, work: Work): Fate {
    const { behavior } = endpoint;
    const limited = endpoint.bucket?.take(resolved.now());
    if (limited !== undefined && !limited.ok) {
      // Retry-After is whole seconds; the small tolerance keeps float noise from adding a second.
      return { kind: 'rate-limited', retryAfterSeconds: Math.max(1, Math.ceil(limited.retryAfterMs / 1000 - 1e-9)) };
    }
    if (endpoint.errorRandom.chance(behavior.errorRate)) {
      const http = behavior.errorMode === 'http' || (behavior.errorMode === 'mixed' && endpoint.errorRandom.chance(0.5));
      // A GET /health probe has no JSON-RPC body to carry -32603.
      if (http || work.kind === 'health') return { kind: 'server-error', status: endpoint.errorRandom.pick(SERVER_ERROR_STATUSES) };
      return { kind: 'rpc-error' };
    }
    const lieSeeds = new Map<ParsedRequest, number>();
    for (const entry of entriesOf(work)) {
      if (entry.valid && endpoint.lieRandom.chance(behavior.lieRate)) lieSeeds.set(entry, endpoint.lieRandom.int(0, 0x7fffffff));
    }
    return { kind: 'ok', lieSeeds };
  }

  function statusOf(fate: Fate): number {
    if (fate.kind === 'rate-limited') return 429;
    return fate.kind === 'server-error' ? fate.status : 200;
  }

  function handleWork(endpoint: Endpoint, res: ServerResponse, work: Work): void {
    const { stats } = endpoint;
    const entries = entriesOf(work);
    const methods = entries.flatMap((entry) => (entry.valid ? [entry.method] : []));
    stats.requests++;
    stats.calls += entries.length;
    for (const method of methods) countMethod(stats, method);
    const tipSlot = chain.slot();

    if (endpoint.behavior.mode === 'down') {
      // Only reachable for a request that was already on the wire when the endpoint went down.
      stats.connectionsReset++;
      res.socket?.resetAndDestroy();
      return;
    }
    if (endpoint.behavior.mode === 'hung') {
      stats.responses.hung++;
      emit({ endpointId: endpoint.id, outcome: 'hung', delayMs: 0, status: 0, methods, lies: 0, tipSlot });
      // Nothing is ever written: the connection stays open until the client or close() ends it.
      return;
    }

    const delayMs = sampleLatencyMs(endpoint.behavior.latency, endpoint.latencyRandom);
    const fate = drawFate(endpoint, work);
    const lies = fate.kind === 'ok' ? fate.lieSeeds.size : 0;
    emit({ endpointId: endpoint.id, outcome: fate.kind, delayMs, status: statusOf(fate), methods, lies, tipSlot });

    const answer = (): void => {
      if (res.destroyed || closed) return;
      try {
        respond(endpoint, res, work, fate);
      } catch (error) {
        // A bug here must cost one answer, not the process.
        if (!res.headersSent) sendJson(res, 500, errorResponse(null, { ...INTERNAL_ERROR, message: `Internal error: ${String(error)}` }));
        else res.destroy();
      }
    };
    answerAfter(endpoint.timers, delayMs, res, answer, () => stats.aborted++);
  }

  function reject(endpoint: Endpoint, res: ServerResponse, status: 405 | 413, text: string, headers: Record<string, string>): void {
    endpoint.stats.requests++;
    endpoint.stats.responses.rejected++;
    send(res, status, { 'content-type': 'text/plain; charset=utf-8', ...headers }, text);
  }

  function onRequest(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): void {
    if (closed) {
      res.destroy();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      req.resume();
      handleWork(endpoint, res, { kind: 'health' });
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      reject(endpoint, res, 405, 'Method Not Allowed: POST JSON-RPC, or GET /health', { allow: 'POST, GET' });
      return;
    }
    readBody(
      req,
      resolved.maxBodyBytes,
      (body) => {
        if (!closed) handleWork(endpoint, res, { kind: 'rpc', envelope: parseRequestBody(body.toString('utf8')) });
      },
      () => reject(endpoint, res, 413, `Payload Too Large: the limit is ${resolved.maxBodyBytes} bytes`, { connection: 'close' }),
    );
  }

  function resetConnections(endpoint: Endpoint): void {
    for (const socket of endpoint.sockets) {
      endpoint.stats.connectionsReset++;
      socket.resetAndDestroy();
    }
  }

  async function listen(id: string, behavior: RpcEndpointBehavior): Promise<Endpoint> {
    const endpointRandom = root.fork(`endpoint:${id}`);
    const server = createServer({ keepAlive: true });
    const endpoint: Endpoint = {
      id,
      server,
      sockets: new Set(),
      timers: new Set(),
      latencyRandom: endpointRandom.fork('latency'),
      errorRandom: endpointRandom.fork('errors'),
      lieRandom: endpointRandom.fork('lies'),
      behavior,
      bucket: behavior.rateLimit === null ? undefined : createTokenBucket(behavior.rateLimit, resolved.now()),
      stats: emptyStats(),
      info: undefined,
    };
    server.on('connection', (socket: Socket) => {
      if (closed || endpoint.behavior.mode === 'down') {
        endpoint.stats.connectionsReset++;
        socket.resetAndDestroy();
        return;
      }
      endpoint.sockets.add(socket);
      socket.once('close', () => endpoint.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => onRequest(endpoint, req, res));
    streams.add(id, server, () => endpoint.behavior, endpointRandom.fork('stream'));
    // Pushed before the first await, so endpoints keep the order they were asked for.
    endpoints.push(endpoint);
    const port = await listenOnLoopback(server);
    endpoint.info = Object.freeze({ id, url: `http://${HOST}:${port}`, wsUrl: `ws://${HOST}:${port}`, host: HOST, port });
    return endpoint;
  }

  async function closeAll(): Promise<void> {
    closed = true;
    if (slotTimer !== undefined) clearInterval(slotTimer);
    streams.close();
    await Promise.all(
      endpoints.map(
        (endpoint) =>
          new Promise<void>((resolve) => {
            for (const timer of endpoint.timers) clearTimeout(timer);
            endpoint.timers.clear();
            if (!endpoint.server.listening) {
              for (const socket of endpoint.sockets) socket.destroy();
              resolve();
              return;
            }
            endpoint.server.close(() => resolve());
            for (const socket of endpoint.sockets) socket.destroy();
            endpoint.server.closeAllConnections();
          }),
      ),
    );
    await handlesReleased();
  }

  try {
    await Promise.all(resolved.endpoints.map((entry) => listen(entry.id, entry.behavior)));
  } catch (error) {
    await closeAll();
    throw toXError(error, {
      code: 'TESTKIT_RPC_LISTEN_FAILED',
      category: 'network',
      message: `A simulated RPC endpoint could not listen on ${HOST}`,
    });
  }

  if (resolved.autoAdvance) {
    slotTimer = setInterval(() => chain.advance(1), resolved.slotMs);
    slotTimer.unref();
  }

  function find(id: string): Endpoint {
    const endpoint = endpoints.find((candidate) => candidate.id === id);
    if (endpoint === undefined) {
      throw new XError({
        code: 'TESTKIT_RPC_UNKNOWN_ENDPOINT',
        category: 'config',
        message: `No simulated endpoint has the id ${JSON.stringify(String(id))}`,
        context: { id: String(id), known: endpoints.map((candidate) => candidate.id) },
      });
    }
    return endpoint;
  }

  function snapshot(endpoint: Endpoint): RpcEndpointStats {
    const { stats } = endpoint;
    return {
      id: endpoint.id,
      requests: stats.requests,
      calls: stats.calls,
      methods: Object.fromEntries(stats.methods),
      responses: { ...stats.responses },
      lies: stats.lies,
      aborted: stats.aborted,
      connectionsReset: stats.connectionsReset,
      stream: streams.stats(endpoint.id),
    };
  }

  function stats(): readonly RpcEndpointStats[];
  function stats(id: string): RpcEndpointStats;
  function stats(id?: string): RpcEndpointStats | readonly RpcEndpointStats[] {
    return id === undefined ? endpoints.map(snapshot) : snapshot(find(id));
  }

  return {
    endpoints: Object.freeze(endpoints.map((endpoint) => endpoint.info as RpcEndpointInfo)),
    chain: guardChain(chain, () => closed),
    seed: resolved.seed,
    behavior: (id) => find(id).behavior,
    setBehavior(id, patch) {
      const endpoint = find(id);
      if (closed) throw closedError('setBehavior');
      const next = resolveBehavior(endpoint.behavior, patch, `setBehavior(${JSON.stringify(id)})`, resolved.maxSlotLag);
      if (next.rateLimit === null) endpoint.bucket = undefined;
      else if (endpoint.bucket === undefined || (patch as RpcBehaviorPatch | undefined)?.rateLimit !== undefined)
        endpoint.bucket = createTokenBucket(next.rateLimit, resolved.now());
      const goingDown = next.mode === 'down' && endpoint.behavior.mode !== 'down';
      endpoint.behavior = next;
      if (goingDown) resetConnections(endpoint);
      streams.pump();
      return next;
    },
    stats,
    resetStats() {
      for (const endpoint of endpoints) endpoint.stats = emptyStats();
      streams.resetStats();
    },
    disconnectStreams(id) {
      find(id);
      return streams.disconnect(id);
    },
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}

function closedError(operation: string): XError {
  return new XError({
    code: 'TESTKIT_RPC_CLOSED',
    category: 'config',
    message: `${operation} was called after the RPC cluster was closed`,
    context: { operation },
  });
}

/** The chain as users see it: reads keep working after close(), changes are refused. */
function guardChain(chain: ChainState, isClosed: () => boolean): SimulatedChain {
  const guard =
    <A extends unknown[], R>(name: string, fn: (...args: A) => R) =>
    (...args: A): R => {
      if (isClosed()) throw closedError(`chain.${name}`);
      return fn(...args);
    };
  return Object.freeze({
    programId: chain.programId,
    evmChainId: chain.evmChainId,
    slot: chain.slot,
    oldestSlot: chain.oldestSlot,
    advance: guard('advance', chain.advance),
    wallets: chain.wallets,
    dataAccounts: chain.dataAccounts,
    account: chain.account,
    setAccount: guard('setAccount', chain.setAccount),
    transfer: guard('transfer', chain.transfer),
    submitTransaction: guard('submitTransaction', chain.submitTransaction),
    transaction: chain.transaction,
    signatures: chain.signatures,
    blockhash: chain.blockhash,
    blockTime: chain.blockTime,
    evmAddressOf: chain.evmAddressOf,
  });
}
