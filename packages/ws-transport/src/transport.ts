import { abortedError, checkTimerMs, configError, isAbortSignal, isPlainObject } from '@x/errors';
import type { XError } from '@x/errors';
import type { JsonRpcParams } from '@x/json-rpc';
import { wsError } from './errors.js';
import { createLink } from './link.js';
import type { LinkState, WsTransportStats } from './link.js';
import { isSubscriptionId, resolveOptions, unsubscribeMethodOf } from './options.js';
import type { WsTransportOptions } from './options.js';
import { rpcError } from './rpc-error.js';
import { createSubscriptionRegistry } from './subscriptions.js';
import type { SubscribeOptions, WsSubscription } from './subscriptions.js';

export interface WsCallOptions {
  /** Overrides the transport's `timeoutMs` for this request. */
  readonly timeoutMs?: number;
  /** Aborting rejects the call with `ABORTED` at once. */
  readonly signal?: AbortSignal;
}

export interface WsTransport {
  /** Secret-free name of the endpoint, for logs and metric labels. */
  readonly label: string;
  /** `connecting` (first connection), `open`, `reconnecting` (waiting or connecting again), `closed` (for good). */
  readonly state: LinkState;
  /** Sends one request over the socket (waiting for a connection if needed) and resolves with its `result`. */
  call<T = unknown>(method: string, params?: JsonRpcParams, options?: WsCallOptions): Promise<T>;
  /** Subscribes (`logsSubscribe`, `eth_subscribe`...); resolves once the server answered with a subscription id. */
  subscribe<T = unknown>(method: string, params: JsonRpcParams | undefined, options: SubscribeOptions<T>): Promise<WsSubscription>;
  stats(): WsTransportStats;
  /** Ends every subscription (`onEnd` with `WS_CLOSED`), rejects waiting calls, closes the socket, clears every timer. Idempotent. */
  close(): Promise<void>;
}

function checkCall(method: unknown, params: unknown, options: WsCallOptions | undefined, fallbackMs: number): number {
  if (typeof method !== 'string' || method === '')
    throw configError('WS_INVALID_REQUEST', 'method', 'method must be a non-empty string', method);
  if (params !== undefined && !Array.isArray(params) && !isPlainObject(params))
    throw configError('WS_INVALID_REQUEST', 'params', 'params must be an array or an object', params);
  if (options?.signal !== undefined && !isAbortSignal(options.signal))
    throw configError('WS_INVALID_REQUEST', 'signal', 'signal must be an AbortSignal', options.signal);
  return options?.timeoutMs === undefined ? fallbackMs : checkTimerMs('WS_INVALID_REQUEST', 'timeoutMs', options.timeoutMs);
}

/** A JSON-RPC connection to one WebSocket endpoint, with subscriptions that survive reconnects. It starts connecting at once. */
export function createWsTransport(options: WsTransportOptions): WsTransport {
  const resolved = resolveOptions(options);
  const registry = createSubscriptionRegistry(resolved, () => link);
  const link = createLink(resolved, { notify: registry.notify, reopened: registry.reopened, ended: registry.ended });
  const closedError = (): XError =>
    wsError('WS_CLOSED', 'aborted', `The transport for ${resolved.label} is closed`, { endpoint: resolved.label });
  const onAbort = (): void => void close();
  if (resolved.signal?.aborted === true) link.end(closedError());
  else {
    resolved.signal?.addEventListener('abort', onAbort, { once: true });
    link.start();
  }

  /**
   * Sends a request; `onResult` runs synchronously with the answer (before the next message is read).
   * A `subscribe` (with `onAbandon`) whose connection drops before the answer is sent again on the next
   * connection, within the same `timeoutMs`: asking twice for a subscription costs nothing.
   */
  function send<T>(
    method: string,
    params: JsonRpcParams | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    onResult: (value: unknown) => T,
    onAbandon?: (value: unknown) => void,
  ): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(abortedError(signal.reason));
    return new Promise<T>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      let id = 0;
      const settle = (): void => signal?.removeEventListener('abort', abort);
      const handlers: Parameters<typeof link.request>[3] = {
        onResult: (value) => {
          settle();
          try {
            resolve(onResult(value));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
        onError: (error, connectionLost) => {
          const remainingMs = deadline - performance.now();
          if (connectionLost === true && onAbandon !== undefined && remainingMs >= 1) {
            id = link.request(method, params, remainingMs, handlers);
            return;
          }
          settle();
          reject('category' in error ? error : rpcError(resolved, method, error));
        },
      };
      function abort(): void {
        reject(abortedError(signal?.reason));
        if (onAbandon === undefined) link.forget(id);
        else link.redirect(id, { onResult: onAbandon, onError: () => undefined });
      }
      // Listening first: a request refused at once (closed transport, full buffer) settles and removes it.
      signal?.addEventListener('abort', abort, { once: true });
      id = link.request(method, params, timeoutMs, handlers);
    });
  }

  async function close(): Promise<void> {
    resolved.signal?.removeEventListener('abort', onAbort);
    link.end(closedError());
    await link.closed();
  }

  return {
    label: resolved.label,
    get state() {
      return link.state;
    },
    call<T>(method: string, params?: JsonRpcParams, callOptions?: WsCallOptions): Promise<T> {
      const timeoutMs = checkCall(method, params, callOptions, resolved.timeoutMs);
      return send(method, params, timeoutMs, callOptions?.signal, (value) => value as T);
    },
    subscribe<T>(method: string, params: JsonRpcParams | undefined, subscribe: SubscribeOptions<T>): Promise<WsSubscription> {
      const timeoutMs = checkCall(method, params, subscribe, resolved.timeoutMs);
      if (!isPlainObject(subscribe) || typeof subscribe.onNotification !== 'function') {
        throw configError('WS_INVALID_REQUEST', 'onNotification', 'subscribe needs options { onNotification }');
      }
      const unsubscribeMethod = subscribe.unsubscribeMethod ?? unsubscribeMethodOf(method);
      if (typeof unsubscribeMethod !== 'string' || unsubscribeMethod === '') {
        throw configError(
          'WS_INVALID_REQUEST',
          'unsubscribeMethod',
          `no unsubscribe method is known for ${method}: pass unsubscribeMethod`,
        );
      }
      const unsubscribeLate = (value: unknown): void => {
        if (isSubscriptionId(value))
          link.request(unsubscribeMethod, [value], timeoutMs, { onResult: () => undefined, onError: () => undefined });
      };
      return send(
        method,
        params,
        timeoutMs,
        subscribe.signal,
        (value) => {
          if (!isSubscriptionId(value)) {
            unsubscribeLate(value);
            throw rpcError(resolved, method, { code: 0, message: 'the answer is not a subscription id' }, 'protocol');
          }
          const init = {
            method,
            params,
            unsubscribeMethod,
            timeoutMs,
            options: subscribe as SubscribeOptions<unknown>,
            id: value,
            connection: link.connection,
          };
          return registry.open(init, (record, ms) => {
            // A dropped connection took the server's subscription with it.
            if (link.state !== 'open' || link.connection !== record.connection) return Promise.resolve(false);
            return send(unsubscribeMethod, [record.id], ms, undefined, (answer) => answer === true).catch(() => false);
          });
        },
        unsubscribeLate,
      );
    },
    stats: link.stats,
    close,
  };
}
