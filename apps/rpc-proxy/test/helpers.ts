import { request } from 'node:http';
import { startRpcCluster } from '@x/testkit';
import type { RpcCluster, RpcClusterOptions } from '@x/testkit';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer, ProxyServerOptions } from '../src/server.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
}

export async function httpCall(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs a JSON-RPC body (an object is serialised, a string is sent as is). */
export function rpcPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return httpCall(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Sends `chunks` with chunked transfer encoding (no Content-Length), as a streaming client would. */
export function postChunked(url: string, chunks: readonly string[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    // The server may answer 413 and close before the whole body is written: that is the point.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

export interface Harness {
  readonly cluster: RpcCluster;
  readonly proxy: ProxyServer;
  close(): Promise<void>;
}

/** A simulated cluster (no slot timer, so answers are stable) and a proxy in front of it. */
export async function startHarness(
  proxyOptions: Omit<ProxyServerOptions, 'endpoints'> & {
    readonly endpoints?: (cluster: RpcCluster) => ProxyServerOptions['endpoints'];
  } = {},
  clusterOptions: RpcClusterOptions = {},
): Promise<Harness> {
  const cluster = await startRpcCluster({ seed: 11, endpoints: 3, autoAdvance: false, ...clusterOptions });
  const { endpoints, ...rest } = proxyOptions;
  let proxy: ProxyServer;
  try {
    proxy = await createProxyServer({
      ...rest,
      endpoints: endpoints?.(cluster) ?? cluster.endpoints.map((endpoint) => ({ id: endpoint.id, url: endpoint.url })),
    });
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return {
    cluster,
    proxy,
    close: async () => {
      await proxy.close();
      await cluster.close();
    },
  };
}

/** Starts a POST whose body never ends; resolves with the answer the server gives anyway. */
export function postUnfinished(url: string, firstChunk: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      });
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') reject(error);
    });
    req.write(firstChunk);
  });
}
