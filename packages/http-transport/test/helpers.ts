import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the test server saw it. */
export interface Received {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly json: unknown;
}

export type Handler = (request: Received, response: ServerResponse) => void;

export interface TestServer {
  /** `http://127.0.0.1:PORT` with no path. */
  readonly origin: string;
  readonly port: number;
  readonly received: Received[];
  /** Connections accepted since start. */
  connectionCount(): number;
  /** Connections currently open on the server side. */
  openConnections(): number;
  /** Replaces how the server answers. */
  setHandler(handler: Handler): void;
  /** Resolves once the server has received `count` requests in total. */
  waitForRequests(count: number): Promise<void>;
  /**
   * Resolves once every server-side socket has closed. The server never closes idle sockets itself
   * (its keep-alive timeout is far beyond any test), so this proves the client closed them.
   */
  waitForNoConnections(): Promise<void>;
  stop(): Promise<void>;
}

/** A real node:http server on 127.0.0.1 with a swappable handler. */
export async function startServer(initial: Handler): Promise<TestServer> {
  let handler = initial;
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const changed = new Set<() => void>();
  const notify = (): void => {
    for (const check of [...changed]) check();
  };
  const until = (done: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        changed.delete(check);
        resolve();
      };
      changed.add(check);
      check();
    });

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const entry: Received = { url: request.url ?? '', headers: request.headers, body, json };
      received.push(entry);
      handler(entry, response);
      notify();
    });
  });
  server.keepAliveTimeout = 600_000;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      notify();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    received,
    connectionCount: () => accepted,
    openConnections: () => sockets.size,
    setHandler: (next) => {
      handler = next;
    },
    waitForRequests: (count) => until(() => received.length >= count),
    waitForNoConnections: () => until(() => sockets.size === 0),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, payload: unknown, headers: OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

export function sendText(response: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

interface RpcRequest {
  readonly id: unknown;
  readonly method: string;
  readonly params?: unknown;
}

export function asRpcRequest(value: unknown): RpcRequest {
  return value as RpcRequest;
}

/** Answers every JSON-RPC request (single or batch) with `result(method, params)`. */
export function rpcResults(result: (method: string, params: unknown) => unknown): Handler {
  return (request, response) => {
    const answer = (item: RpcRequest): unknown => ({ jsonrpc: '2.0', id: item.id, result: result(item.method, item.params) });
    const json = request.json;
    sendJson(response, 200, Array.isArray(json) ? json.map((item) => answer(asRpcRequest(item))) : answer(asRpcRequest(json)));
  };
}

/** Answers a single request with the given JSON-RPC error object. */
export function rpcError(code: number, message: string, data?: unknown): Handler {
  return (request, response) => {
    const error = data === undefined ? { code, message } : { code, message, data };
    sendJson(response, 200, { jsonrpc: '2.0', id: asRpcRequest(request.json).id, error });
  };
}

/** Accepts the request and never answers. */
export const hang: Handler = () => {};

/** Sends 200 headers and then one space every few milliseconds, forever. */
export const trickle: Handler = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.write('{"jsonrpc":"2.0",');
  const timer = setInterval(() => response.write(' '), 5);
  response.on('close', () => clearInterval(timer));
};

/** Counts the active resources of one kind (`TCPSocketWrap`, `Timeout`, ...). */
export function activeResources(kind: string): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === kind).length;
}
