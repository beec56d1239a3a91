import type WebSocket from 'ws';
import { isPlainObject } from '@x/errors';
import type { XError } from '@x/errors';
import { jsonParserFor, parseResponse, stringifyJson } from '@x/json-rpc';
import type { JsonRpcId, JsonRpcParams } from '@x/json-rpc';
import { backoffDelay } from './backoff.js';
import { openSocket } from './connect.js';
import { safeCause, safeText, wsError } from './errors.js';
import { startKeepAlive } from './keepalive.js';
import { isSubscriptionId } from './options.js';
import type { ResolvedOptions } from './options.js';
import { createRequestTable } from './requests.js';
import type { PendingRequest } from './requests.js';

/** Where the link hands what concerns subscriptions. */
export interface LinkHooks {
  /** A notification for server subscription `subscription`; returns false when no live subscription has that id. */
  notify(subscription: JsonRpcId, result: unknown, method: string, connection: number): boolean;
  /** A connection after the first opened: the live subscriptions must be issued again. */
  reopened(connection: number, downtimeMs: number): void;
  /** The transport ended for good (closed, aborted, gave up, or disconnected with `reconnect: false`). */
  ended(error: XError): void;
}

export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Counters of one transport, for tests and dashboards. */
export interface WsTransportStats {
  readonly state: LinkState;
  /** Connections opened so far (the current one's number). */
  readonly connection: number;
  /** Connections opened after the first. */
  readonly reconnects: number;
  /** Notifications handed to a subscription. */
  readonly notifications: number;
  /** Notifications for a subscription id that is not live (late after an unsubscribe): dropped. */
  readonly unrouted: number;
  /** Messages dropped as unusable (not JSON, not JSON-RPC, an answer to no request). */
  readonly ignored: number;
  /** Requests waiting for an answer. */
  readonly pending: number;
}

/**
 * One endpoint's connection over time: connects, keeps alive, reconnects with backoff, queues
 * requests while disconnected (bounded by `maxBufferedBytes`), matches answers to requests and
 * routes notifications to `hooks`.
 */
export function createLink(options: ResolvedOptions, hooks: LinkHooks) {
  const endpoint = options.label;
  const parse = jsonParserFor(options.bigIntegers);
  const table = createRequestTable();
  const redirect = table.redirect;
  const queue = new Map<number, string>();
  const counters = { connection: 0, notifications: 0, unrouted: 0, ignored: 0 };
  let queuedBytes = 0;
  let sequence = 0;
  let state: LinkState = 'connecting';
  let socket: WebSocket | undefined;
  let endError: XError | undefined;
  let connecting: AbortController | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let downSince = performance.now();
  let socketClosed: Promise<void> = Promise.resolve();

  function ignored(error: XError): void {
    counters.ignored += 1;
    options.onEvent({ type: 'ignored', connection: counters.connection, error });
  }

  function malformed(reason: string): void {
    ignored(wsError('WS_MALFORMED_MESSAGE', 'protocol', `${endpoint} sent a message that is not usable: ${reason}`, { endpoint, reason }));
  }

  function onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) return malformed('a binary frame');
    let message: unknown;
    try {
      message = parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    } catch {
      return malformed('not JSON');
    }
    for (const element of Array.isArray(message) ? message : [message]) handleElement(element);
  }

  function handleElement(element: unknown): void {
    if (isPlainObject(element) && typeof element.method === 'string' && (element.id === undefined || element.id === null)) {
      const params = element.params;
      if (!isPlainObject(params) || !isSubscriptionId(params.subscription))
        return malformed(`a ${safeText(element.method, options.secrets)} notification without a subscription id`);
      if (hooks.notify(params.subscription, params.result, element.method, counters.connection)) counters.notifications += 1;
      else counters.unrouted += 1;
      return;
    }
    const parsed = parseResponse(element);
    const request = typeof parsed.id === 'number' ? table.take(parsed.id) : undefined;
    if (request === undefined) return malformed(parsed.kind === 'invalid' ? parsed.reason : 'an answer to no waiting request');
    queue.delete(parsed.id as number);
    if (parsed.kind === 'result') request.onResult(parsed.value);
    else if (parsed.kind === 'error') request.onError(parsed.error);
    else
      request.onError(
        wsError('WS_MALFORMED_MESSAGE', 'protocol', `${endpoint} answered ${request.method} with ${parsed.reason}`, {
          endpoint,
          reason: parsed.reason,
        }),
      );
  }

  function socketError(error: Error & { code?: string }): XError {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      const maxPayload = options.maxPayload;
      return wsError('WS_MESSAGE_TOO_LARGE', 'protocol', `${endpoint} sent a message larger than maxPayload (${maxPayload} bytes)`, {
        endpoint,
        maxPayload,
      });
    }
    const reason = safeText(error.message, options.secrets);
    const category = error.code?.startsWith('WS_ERR_') === true ? 'protocol' : 'network';
    const code = category === 'protocol' ? 'WS_MALFORMED_MESSAGE' : 'WS_DISCONNECTED';
    return wsError(
      code,
      category,
      `Connection to ${endpoint} failed: ${reason}`,
      { endpoint, reason, code: 1006 },
      safeCause(error, options.secrets),
    );
  }

  function adopt(open: WebSocket, connectMs: number): void {
    socket = open;
    state = 'open';
    counters.connection += 1;
    const connection = counters.connection;
    const openedAt = performance.now();
    const downtimeMs = openedAt - downSince;
    let failure: XError | undefined;
    const stopKeepAlive =
      options.pingIntervalMs === false
        ? () => undefined
        : startKeepAlive(open, options.pingIntervalMs, options.pongTimeoutMs, () => {
            const pongTimeoutMs = options.pongTimeoutMs;
            failure = wsError('WS_PONG_TIMEOUT', 'timeout', `${endpoint} did not answer a ping within ${pongTimeoutMs} ms`, {
              endpoint,
              pongTimeoutMs,
            });
            open.terminate();
          });
    let release: () => void = () => undefined;
    socketClosed = new Promise((resolve) => (release = resolve));
    open.on('message', onMessage);
    open.on('error', (error: Error) => (failure ??= socketError(error)));
    open.once('close', (code: number, reasonBuffer: Buffer) => {
      stopKeepAlive();
      open.removeAllListeners('message');
      socket = undefined;
      downSince = performance.now();
      const reason = safeText(reasonBuffer.toString('utf8'), options.secrets);
      const dropped = wsError(
        'WS_DISCONNECTED',
        'network',
        `Connection to ${endpoint} closed (${code}${reason === '' ? '' : ` ${reason}`})`,
        { endpoint, code, reason },
        failure,
      );
      if (endError !== undefined) table.failAll(endError);
      else table.failAll(failure ?? dropped, true);
      options.onEvent(
        endError === undefined
          ? { type: 'close', connection, code, reason, error: failure ?? dropped }
          : { type: 'close', connection, code, reason },
      );
      release();
      if (endError !== undefined) return;
      if (downSince - openedAt >= (options.reconnect === false ? 0 : options.reconnect.resetAfterMs)) failures = 0;
      retry(failure ?? dropped);
    });
    options.onEvent(
      connection === 1
        ? { type: 'open', connection, reconnect: false, connectMs }
        : { type: 'open', connection, reconnect: true, connectMs, downtimeMs },
    );
    for (const [id, text] of queue) {
      queue.delete(id);
      queuedBytes -= Buffer.byteLength(text);
      open.send(text);
    }
    if (connection > 1) hooks.reopened(connection, downtimeMs);
  }

  function connect(): void {
    const controller = new AbortController();
    connecting = controller;
    const started = performance.now();
    openSocket(options, controller.signal).then(
      (open) => {
        connecting = undefined;
        if (endError !== undefined) open.terminate();
        else adopt(open, performance.now() - started);
      },
      (error: XError) => {
        connecting = undefined;
        if (endError === undefined) retry(error);
      },
    );
  }

  function retry(error: XError): void {
    if (options.reconnect === false) return end(error);
    failures += 1;
    if (failures > options.reconnect.maxAttempts) {
      const attempts = failures - 1;
      const gaveUp = wsError(
        'WS_RECONNECT_GAVE_UP',
        'network',
        `Gave up reconnecting to ${endpoint} after ${attempts} attempts`,
        { endpoint, attempts },
        error,
      );
      options.onEvent({ type: 'gave-up', error: gaveUp });
      return end(gaveUp);
    }
    state = 'reconnecting';
    const delayMs = backoffDelay(failures, options.reconnect, options.random);
    options.onEvent({ type: 'retry', attempt: failures, delayMs, error });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, delayMs);
  }

  function end(error: XError): void {
    if (endError !== undefined) return;
    endError = error;
    state = 'closed';
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    connecting?.abort(error);
    queue.clear();
    queuedBytes = 0;
    table.failAll(error);
    hooks.ended(error);
    const open = socket;
    if (open === undefined) return;
    const force = setTimeout(() => open.terminate(), 1_000);
    void socketClosed.then(() => clearTimeout(force));
    open.close(1000, 'client closed');
  }

  /** Sends one request; `handlers` hear its answer, or an error (timeout, disconnect, full buffer, end). Returns its id. */
  function request(method: string, params: JsonRpcParams | undefined, timeoutMs: number, handlers: Omit<PendingRequest, 'method'>): number {
    const id = (sequence += 1);
    if (endError !== undefined) {
      handlers.onError(endError);
      return id;
    }
    let text: string | undefined;
    try {
      text = stringifyJson(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      // The shape of configError (category config, context { option }), typed as this table's errors.
      handlers.onError(wsError('WS_INVALID_REQUEST', 'config', `The params of ${method} cannot be written as JSON`, { option: 'params' }));
      return id;
    }
    const bytes = Buffer.byteLength(text);
    const buffered = (socket?.bufferedAmount ?? 0) + queuedBytes;
    if (buffered + bytes > options.maxBufferedBytes) {
      const maxBufferedBytes = options.maxBufferedBytes;
      handlers.onError(
        wsError('WS_SEND_BUFFER_FULL', 'network', `More than maxBufferedBytes (${maxBufferedBytes}) wait to be sent to ${endpoint}`, {
          endpoint,
          bufferedBytes: buffered,
          maxBufferedBytes,
        }),
      );
      return id;
    }
    table.add(id, { method, ...handlers }, timeoutMs, () => {
      if (queue.delete(id)) queuedBytes -= bytes;
      handlers.onError(
        wsError('WS_TIMEOUT', 'timeout', `${endpoint} did not answer ${method} within ${timeoutMs} ms`, { endpoint, method, timeoutMs }),
      );
    });
    if (socket !== undefined) socket.send(text);
    else {
      queue.set(id, text);
      queuedBytes += bytes;
    }
    return id;
  }

  /** Forgets request `id` (its caller gave up); a queued request is not sent. */
  function forget(id: number): void {
    const text = queue.get(id);
    if (text !== undefined) {
      queue.delete(id);
      queuedBytes -= Buffer.byteLength(text);
    }
    table.take(id);
  }

  return {
    /** Starts the first connection attempt. */
    start: connect,
    request,
    forget,
    redirect,
    end,
    get state(): LinkState {
      return state;
    },
    get connection(): number {
      return counters.connection;
    },
    get endError(): XError | undefined {
      return endError;
    },
    /** Resolves once the current socket (if any) has closed. */
    closed: (): Promise<void> => socketClosed,
    stats: (): WsTransportStats => ({
      state,
      connection: counters.connection,
      reconnects: Math.max(0, counters.connection - 1),
      notifications: counters.notifications,
      unrouted: counters.unrouted,
      ignored: counters.ignored,
      pending: table.size,
    }),
  };
}

export type Link = ReturnType<typeof createLink>;
