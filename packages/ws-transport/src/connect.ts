import WebSocket from 'ws';
import { abortedError } from '@x/errors';
import type { XError } from '@x/errors';
import { safeCause, safeText, wsError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/**
 * Opens one WebSocket to the endpoint. Resolves with the open socket; rejects with
 * `WS_CONNECT_TIMEOUT` (past `connectTimeoutMs`), `WS_HANDSHAKE_REJECTED` (an HTTP status instead
 * of the upgrade), `WS_CONNECT_FAILED` (refused, reset, DNS, TLS) or `ABORTED` (`signal`). On every
 * rejection the socket is terminated and no timer or listener stays behind.
 */
export function openSocket(options: ResolvedOptions, signal: AbortSignal): Promise<WebSocket> {
  const endpoint = options.label;
  if (signal.aborted) return Promise.reject(abortedError(signal.reason));
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(options.url, {
      headers: options.headers,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      followRedirects: false,
    });
    let status: number | undefined;
    const finish = (error: XError | undefined): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('open', onOpen);
      socket.off('error', onError);
      socket.off('unexpected-response', onUnexpected);
      if (error === undefined) {
        resolve(socket);
        return;
      }
      // terminate() on a connecting socket emits one more 'error'; a no-op listener keeps it from being unhandled.
      socket.on('error', ignore);
      socket.terminate();
      reject(error);
    };
    const onOpen = (): void => finish(undefined);
    const onError = (error: Error): void => {
      if (status !== undefined) {
        finish(
          wsError('WS_HANDSHAKE_REJECTED', 'server', `${endpoint} answered the WebSocket upgrade with HTTP ${status}`, {
            endpoint,
            status,
          }),
        );
        return;
      }
      const reason = safeText(error.message, options.secrets);
      finish(
        wsError(
          'WS_CONNECT_FAILED',
          'network',
          `Could not connect to ${endpoint}: ${reason}`,
          { endpoint, reason },
          safeCause(error, options.secrets),
        ),
      );
    };
    const onUnexpected = (_request: unknown, response: { statusCode?: number; resume(): void }): void => {
      status = response.statusCode ?? 0;
      response.resume();
      onError(new Error(`HTTP ${status}`));
    };
    const onAbort = (): void => finish(abortedError(signal.reason));
    const timer = setTimeout(() => {
      const connectTimeoutMs = options.connectTimeoutMs;
      finish(
        wsError('WS_CONNECT_TIMEOUT', 'timeout', `${endpoint} did not accept the connection within ${connectTimeoutMs} ms`, {
          endpoint,
          connectTimeoutMs,
        }),
      );
    }, options.connectTimeoutMs);
    socket.on('open', onOpen);
    socket.on('error', onError);
    socket.on('unexpected-response', onUnexpected);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function ignore(): void {
  // See finish().
}
