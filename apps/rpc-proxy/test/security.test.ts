import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli.js';
import { createProxyServer } from '../src/server.js';
import type { ProxyServer } from '../src/server.js';

/** Whether a TCP connection to host:port is accepted. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** This machine's addresses other than loopback (a LAN or container address), if it has any. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')
    .map((entry) => entry!.address);
}

describe('where the proxy listens', () => {
  it('binds 127.0.0.1 unless told otherwise: other addresses of this machine refuse the connection', async () => {
    expect(parseCli(['--local'])).toMatchObject({ kind: 'run', host: '127.0.0.1' });
    const proxy = await createProxyServer({ endpoints: [{ url: 'http://127.0.0.1:1' }] });
    try {
      expect(proxy.host).toBe('127.0.0.1');
      expect(await reachable('127.0.0.1', proxy.port)).toBe(true);
      // Linux routes all of 127.0.0.0/8 to loopback: a socket bound to every address would accept here.
      expect(await reachable('127.0.0.2', proxy.port)).toBe(false);
      for (const address of externalAddresses()) expect(await reachable(address, proxy.port)).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('listens on every address only when asked to', async () => {
    const proxy = await createProxyServer({ endpoints: [{ url: 'http://127.0.0.1:1' }], host: '0.0.0.0' });
    try {
      expect(await reachable('127.0.0.2', proxy.port)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

// Credentials of the providers behind the proxy, and the proxy's own bearer token.
const PATH_KEY = 'p4thK3y0123456789abcdefABCDEF';
const QUERY_KEY = 'Qk7Vn2Xr9Lm4Tz8w';
const PROVIDER_TOKEN = 'prov1derT0ken-abcdef123456';
const HEADER_KEY = 'H3aderKey-9876543210';
const PROXY_TOKEN = 'proxy-bearer-0123456789abcdef';
const SECRETS = [PATH_KEY, QUERY_KEY, PROVIDER_TOKEN, HEADER_KEY, PROXY_TOKEN];

/** Answers by the first path segment; every answer quotes what the provider received: URL, headers. */
let upstream: Server;
let upstreamOrigin = '';

beforeAll(async () => {
  upstream = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received = `${request.url} ${JSON.stringify(request.headers)}`;
      const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown };
      const mode = (request.url ?? '').split('/')[1];
      if (mode === 'e500') response.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream failed: ${received}`);
      else if (mode === 'e429') response.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' }).end(`slow down: ${received}`);
      else if (mode === 'ehtml') response.writeHead(200, { 'content-type': 'text/html' }).end(`<html>${received}</html>`);
      else if (mode === 'eparams') {
        // The same node error from every provider is passed through to the client: with its text.
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            jsonrpc: '2.0',
            id,
            error: { code: -32602, message: `Invalid params: ${received}`, data: { echo: received } },
          }),
        );
      } else {
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: `internal: ${received}`, data: { echo: received } } }));
      }
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamOrigin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('no key of a provider, header value or bearer token in any answer, log line or metric', () => {
  it('with providers that quote back their URL and request headers in every kind of failure', async () => {
    const log: string[] = [];
    const endpoint = (mode: string) => ({
      id: mode,
      url: `${upstreamOrigin}/${mode}/v2/${PATH_KEY}?api-key=${QUERY_KEY}`,
      headers: { authorization: `Bearer ${PROVIDER_TOKEN}`, 'x-api-key': HEADER_KEY },
    });
    let proxy: ProxyServer | undefined;
    try {
      proxy = await createProxyServer({
        endpoints: ['e500', 'e429', 'ehtml', 'erpc'].map(endpoint),
        token: PROXY_TOKEN,
        log: (line) => log.push(line),
      });
      const auth = { authorization: `Bearer ${PROXY_TOKEN}` };
      const post = async (body: unknown): Promise<string> => {
        const response = await fetch(proxy!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify(body),
        });
        return response.text();
      };
      const answers: string[] = [];
      for (const strategy of ['race', 'hedge', 'consensus', 'broadcast'] as const) {
        answers.push(await post({ jsonrpc: '2.0', id: strategy, method: 'getSlot' }));
        answers.push(
          await post([
            { jsonrpc: '2.0', id: 1, method: 'getBalance', params: ['x'] },
            { jsonrpc: '2.0', id: 2, method: 'getHealth' },
          ]),
        );
        expect(JSON.parse(answers.at(-2)!)).toMatchObject({ error: { code: expect.any(Number) as unknown } });
      }
      // A node error passed through with its own text and data: the only one every provider gives.
      const passthrough = await createProxyServer({ endpoints: [endpoint('eparams')], log: (line) => log.push(line) });
      try {
        const response = await fetch(passthrough.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'getBalance', params: ['x'] }),
        });
        const text = await response.text();
        expect(JSON.parse(text)).toMatchObject({ error: { code: -32602, data: { echo: expect.stringContaining('***') as unknown } } });
        answers.push(text, await (await fetch(`${passthrough.url}/stats`)).text());
      } finally {
        await passthrough.close();
      }
      for (const path of ['/stats', '/health', '/metrics'])
        answers.push(await (await fetch(`${proxy.url}${path}`, { headers: auth })).text());
      // Refusals quote nothing either, whatever the client sent as a token.
      answers.push(await (await fetch(`${proxy.url}/stats`, { headers: { authorization: `Bearer ${PROXY_TOKEN}-not` } })).text());

      // The failures really did reach the statistics, keys removed.
      const stats = JSON.parse(answers.at(-4)!) as {
        pool: { endpoints: Array<{ id: string; lastError: { code: string; message: string } | null }> };
      };
      expect(stats.pool.endpoints.find((e) => e.id === 'e500')!.lastError).toMatchObject({
        code: 'HTTP_SERVER_ERROR',
        message: expect.stringContaining('***') as unknown,
      });
      for (const answer of answers) expectNoSecret(answer);
      for (const line of log) expectNoSecret(line);
    } finally {
      await proxy?.close();
    }
  });
});
