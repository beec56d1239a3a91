import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XError, redactSecrets } from '@x/errors';
import { errorResponse } from '@x/json-rpc';
import type { ProxyLimits } from './config.js';
import { sendJson } from './http.js';
import { PROXY_RPC_ERROR_CODES } from './jsonrpc.js';
import type { Handler } from './router.js';

/** Beyond the request's own deadline, so that Node's backstop never pre-empts the proxy's JSON-RPC 408. */
const REQUEST_TIMEOUT_SLACK_MS = 1_000;

/**
 * The `node:http` server: Node's own limits on slow clients, a last-resort 500 for a handler that
 * throws, and a bare 400/408 for requests Node cannot parse.
 */
export function createNodeServer(limits: ProxyLimits, handler: Handler, log: (line: string) => void, secrets: readonly string[]): Server {
  const nodeRequestTimeoutMs = limits.requestDeadlineMs + REQUEST_TIMEOUT_SLACK_MS;
  const server = createServer(
    {
      // A client must send its request line and headers within headersTimeoutMs, however slowly the
      // bytes come (one a second keeps a socket busy but never idle), and its whole request within the
      // request's own deadline. Node checks both every connectionsCheckingInterval.
      headersTimeout: Math.min(limits.headersTimeoutMs, nodeRequestTimeoutMs),
      requestTimeout: nodeRequestTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (request, response) => {
      handler(request, response).catch((error: unknown) => {
        log(`internal error: ${redactSecrets(error instanceof Error ? error.message : String(error), secrets)}`);
        sendJson(response, 500, errorResponse(null, { code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR, message: 'Internal error' }), {
          connection: 'close',
        });
      });
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // Destroyed once written: a client still trickling bytes must not keep the socket half open.
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
  });
  return server;
}

/** Binds `server`; rejects with `PROXY_LISTEN_FAILED` (the address in use, not allowed…). */
export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
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
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    throw new XError({
      code: 'PROXY_LISTEN_FAILED',
      category: 'network',
      message: `Cannot listen on ${host}:${port}: ${code}`,
      context: { host, port, causeCode: code },
      cause: error,
    });
  });
}

export function urlHost(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
