import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport } from '@x/http-transport';
import { createPool } from '@x/pool';

// Shaped like real provider keys: in the path, in the query, and as user info.
const PATH_KEY = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const QUERY_KEY = 'Hx4Kq9Zt2Wm7Pv3n';
const USER_KEY = 'uSeR0pAsS1234567';
const SECRETS = [PATH_KEY, QUERY_KEY, USER_KEY];

/** Every rendering of a value a log line or a dashboard could show. */
function expectNoSecret(value: unknown): void {
  const renderings = [typeof value === 'string' ? value : JSON.stringify(value), inspect(value, { depth: Infinity })];
  if (value instanceof Error) renderings.push(value.message, value.stack ?? '');
  for (const rendering of renderings) for (const secret of SECRETS) expect(rendering).not.toContain(secret);
}

/** Quotes the request URL (with its keys) back everywhere an error could pick up text. */
type Mode = 'e500' | 'erpc' | 'e429' | 'ehtml' | 'ok';
let server: Server;
let origin = '';
const modes = new Map<string, Mode>();

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = request.url ?? '';
      const mode = modes.get(path.split('/')[1] ?? '') ?? 'ok';
      const auth = request.headers.authorization ?? '';
      const quoted = `${path} ${auth} ${Buffer.from(auth.replace('Basic ', ''), 'base64').toString('utf8')}`;
      switch (mode) {
        case 'e500':
          response.writeHead(500, { 'content-type': 'text/plain', 'x-echo': path }).end(`upstream failed for ${quoted}`);
          return;
        case 'e429':
          response.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' }).end(`slow down, ${quoted}`);
          return;
        case 'erpc':
          response.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              jsonrpc: '2.0',
              id: null,
              error: { code: -32603, message: `internal error for ${quoted}`, data: { url: quoted } },
            }),
          );
          return;
        case 'ehtml':
          response.writeHead(200, { 'content-type': `text/html; url=${path}` }).end(`<html>${quoted}</html>`);
          return;
        case 'ok':
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: 42 }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('API keys in endpoint URLs never reach pool errors, snapshots, exports or /metrics', () => {
  it('through http-transport, whatever the endpoints echo back, and after a foreign error quoting the URL', async () => {
    const endpoints = (['e500', 'erpc', 'e429', 'ehtml', 'refused'] as const).map((mode) => {
      const host = mode === 'refused' ? '127.0.0.1:1' : origin;
      modes.set(mode, mode === 'refused' ? 'ok' : mode);
      return { id: mode, target: `http://${USER_KEY}:${USER_KEY}@${host}/${mode}/v2/${PATH_KEY}?api-key=${QUERY_KEY}` };
    });
    const transports = new Map<string, HttpTransport>(
      endpoints.map((endpoint) => [endpoint.id, createHttpTransport({ url: endpoint.target, timeoutMs: 2_000 })]),
    );
    const pool = createPool({ endpoints, ejection: { consecutiveFailures: 1000 } });
    const failures: unknown[] = [];
    try {
      for (const strategy of ['race', 'hedge', 'consensus'] as const) {
        for (let i = 0; i < 3; i++) {
          try {
            await pool.execute((endpoint, { signal }) => transports.get(endpoint.id)!.call('getSlot', [], { signal }), {
              strategy,
              ...(strategy === 'hedge' ? { hedgeDelayMs: 1 } : {}),
            });
          } catch (error) {
            failures.push(error);
          }
        }
      }
      expect(failures).toHaveLength(9);
      for (const failure of failures) {
        expect(isXError(failure)).toBe(true);
        expectNoSecret(failure);
      }
      // Each endpoint's own failure reached its statistics, keys removed.
      const snapshot = pool.snapshot();
      const codes = new Set(snapshot.endpoints.map((endpoint) => endpoint.lastError?.code));
      expect(codes).toEqual(
        new Set(['HTTP_SERVER_ERROR', 'HTTP_RPC_SERVER_ERROR', 'HTTP_RATE_LIMITED', 'HTTP_MALFORMED_RESPONSE', 'HTTP_NETWORK']),
      );

      // An attempt function of the caller's that throws a plain Error quoting its target.
      await pool
        .execute(
          (endpoint) => Promise.reject(new Error(`cannot reach ${String(endpoint.target)} (key ${PATH_KEY}, ${QUERY_KEY}, ${USER_KEY})`)),
          { strategy: 'race' },
        )
        .catch(() => undefined);

      expectNoSecret(pool.snapshot());
      expectNoSecret(pool.export());
      expectNoSecret(await pool.metrics());
      expectNoSecret(pool.endpoints.map((endpoint) => endpoint.label));
      // The foreign error did reach the statistics (of every endpoint the race chose: not the one cooling down after its 429).
      const foreign = pool.snapshot().endpoints.filter((endpoint) => endpoint.lastError?.code === 'STRATEGY_ATTEMPT_FAILED');
      expect(foreign.length).toBeGreaterThanOrEqual(4);
      expect(foreign[0]!.lastError!.message).toContain('***');
      expect(await pool.metrics()).toContain(`${origin}/e500/v2/***`);
    } finally {
      await Promise.all([...transports.values()].map((transport) => transport.close()));
    }
  });
});
