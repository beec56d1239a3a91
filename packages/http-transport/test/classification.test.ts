import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasCategory } from '@x/errors';
import type { XError } from '@x/errors';
import { DEFAULT_CALLER_ERROR_CODES, createHttpTransport, isCallerError } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { asRpcRequest, hang, rpcError, rpcResults, sendJson, sendText, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

let server: TestServer;
const open: HttpTransport[] = [];

function transport(options: Partial<HttpTransportOptions> = {}): HttpTransport {
  const created = createHttpTransport({ url: `${server.origin}/rpc`, timeoutMs: 2_000, ...options });
  open.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<XError> {
  try {
    await promise;
  } catch (error) {
    return error as XError;
  }
  throw new Error('expected the call to fail');
}

// What the strategies' default shouldFailover does: only endpoint failures move on to another endpoint.
const failsOver = (error: unknown): boolean => hasCategory(error, ['network', 'timeout', 'rate-limit', 'server']);

beforeAll(async () => {
  server = await startServer(hang);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await server.stop();
});

describe('HTTP status', () => {
  it('429 with Retry-After in seconds is a rate limit with retryAfterMs', async () => {
    server.setHandler((_request, response) => sendText(response, 429, 'slow down', { 'retry-after': '3' }));
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({
      code: 'HTTP_RATE_LIMITED',
      category: 'rate-limit',
      context: { status: 429, retryAfterMs: 3_000, body: 'slow down' },
    });
    expect(failsOver(error)).toBe(true);
    expect(isCallerError(error)).toBe(false);
  });

  it('429 with Retry-After as an HTTP date gives the time left until that date', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    server.setHandler((_request, response) => sendText(response, 429, '', { 'retry-after': at }));
    const error = await failure(transport().call('getSlot'));
    expect(error.code).toBe('HTTP_RATE_LIMITED');
    const retryAfterMs = error.context.retryAfterMs as number;
    // The date has one-second resolution and the test needs some time: a wide window, not a timing claim.
    expect(retryAfterMs).toBeGreaterThan(60_000);
    expect(retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('429 carrying a JSON-RPC error keeps its code and message in context and stays a rate limit', async () => {
    server.setHandler((request, response) =>
      sendJson(response, 429, { jsonrpc: '2.0', id: asRpcRequest(request.json).id, error: { code: -32602, message: 'too many' } }),
    );
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({
      code: 'HTTP_RATE_LIMITED',
      category: 'rate-limit',
      context: { status: 429, rpcCode: -32602, rpcMessage: 'too many' },
    });
  });

  it('5xx is a server error with the status and a truncated body excerpt', async () => {
    server.setHandler((_request, response) => sendText(response, 502, `bad gateway ${'x'.repeat(1_000)}`, { 'retry-after': '1' }));
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_SERVER_ERROR', category: 'server', context: { status: 502, retryAfterMs: 1_000 } });
    expect((error.context.body as string).length).toBeLessThanOrEqual(201);
    expect(error.context.body as string).toMatch(/^bad gateway x+…$/);
    expect(failsOver(error)).toBe(true);
  });

  it.each([400, 401, 403, 404, 413])('%i is a caller error that does not fail over', async (status) => {
    server.setHandler((_request, response) => sendText(response, status, 'no'));
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_CLIENT_ERROR', category: 'config', context: { status } });
    expect(isCallerError(error)).toBe(true);
    expect(failsOver(error)).toBe(false);
  });

  it('408 is a timeout', async () => {
    server.setHandler((_request, response) => sendText(response, 408, ''));
    await expect(transport().call('getSlot')).rejects.toMatchObject({
      code: 'HTTP_TIMEOUT',
      category: 'timeout',
      context: { status: 408 },
    });
  });

  it('a redirect is not followed: it is a protocol error and the target never sees the request', async () => {
    server.setHandler((_request, response) => {
      response.writeHead(307, { location: '/elsewhere', 'content-length': 0 });
      response.end();
    });
    const before = server.received.length;
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_UNEXPECTED_STATUS', category: 'protocol', context: { status: 307 } });
    expect(server.received.slice(before).map((r) => r.url)).toEqual(['/rpc']);
  });

  it('a non-2xx status with a JSON-RPC error body is classified by the JSON-RPC code, keeping the status', async () => {
    server.setHandler((request, response) =>
      sendJson(response, 500, { jsonrpc: '2.0', id: asRpcRequest(request.json).id, error: { code: -32602, message: 'bad params' } }),
    );
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_RPC_CALLER_ERROR', category: 'config', context: { status: 500, rpcCode: -32602 } });
  });

  it('reads an error body only up to a small cap and still classifies by status', async () => {
    server.setHandler((_request, response) => {
      response.writeHead(503, { 'content-type': 'text/html' });
      const timer = setInterval(() => response.write('<p>down</p>'.repeat(1_000)), 1);
      response.on('close', () => clearInterval(timer));
    });
    const rpc = transport({ connections: 1 });
    await expect(rpc.call('getSlot')).rejects.toMatchObject({ code: 'HTTP_SERVER_ERROR', context: { status: 503 } });
    server.setHandler(rpcResults(() => 'next'));
    await expect(rpc.call('getSlot')).resolves.toBe('next');
  });
});

describe('JSON-RPC error objects', () => {
  it.each([
    [-32600, 'HTTP_RPC_CALLER_ERROR', 'config'],
    [-32601, 'HTTP_RPC_CALLER_ERROR', 'config'],
    [-32602, 'HTTP_RPC_CALLER_ERROR', 'config'],
    [-32603, 'HTTP_RPC_SERVER_ERROR', 'server'],
    [-32000, 'HTTP_RPC_SERVER_ERROR', 'server'],
    [-32099, 'HTTP_RPC_SERVER_ERROR', 'server'],
    [-32700, 'HTTP_RPC_SERVER_ERROR', 'server'],
    [-32005, 'HTTP_RPC_RATE_LIMITED', 'rate-limit'],
    [-32429, 'HTTP_RPC_RATE_LIMITED', 'rate-limit'],
    [429, 'HTTP_RPC_RATE_LIMITED', 'rate-limit'],
    [3, 'HTTP_RPC_SERVER_ERROR', 'server'],
  ] as const)('code %i → %s (%s)', async (rpcCode, code, category) => {
    server.setHandler(rpcError(rpcCode, `problem ${rpcCode}`));
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code, category, context: { status: 200, rpcCode, rpcMessage: `problem ${rpcCode}` } });
    expect(isCallerError(error)).toBe(category === 'config');
    expect(failsOver(error)).toBe(category !== 'config');
  });

  it('keeps the error data (e.g. Solana preflight logs) in context', async () => {
    server.setHandler(
      rpcError(-32002, 'Transaction simulation failed', { logs: ['Program failed'], err: { InstructionError: [0, 'Custom'] } }),
    );
    const error = await failure(transport().call('sendTransaction', ['tx']));
    expect(error.context.rpcData).toEqual({ logs: ['Program failed'], err: { InstructionError: [0, 'Custom'] } });
  });

  it('follows configured code tables: extra caller codes and a narrower rate-limit list', async () => {
    const rpc = transport({ callerErrorCodes: [...DEFAULT_CALLER_ERROR_CODES, -32002], rateLimitCodes: [-32429] });
    server.setHandler(rpcError(-32002, 'preflight failed'));
    await expect(rpc.call('sendTransaction', ['tx'])).rejects.toMatchObject({ code: 'HTTP_RPC_CALLER_ERROR', category: 'config' });
    server.setHandler(rpcError(-32005, 'Node is unhealthy'));
    await expect(rpc.call('getSlot')).rejects.toMatchObject({ code: 'HTTP_RPC_SERVER_ERROR', category: 'server' });
  });

  it('accepts an error whose id is null: the server could not tell which request it answers', async () => {
    server.setHandler((_request, response) =>
      sendJson(response, 200, { jsonrpc: '2.0', id: null, error: { code: -32429, message: 'limit' } }),
    );
    await expect(transport().call('getSlot')).rejects.toMatchObject({ code: 'HTTP_RPC_RATE_LIMITED' });
  });

  it('passes Retry-After along with a JSON-RPC rate-limit error', async () => {
    server.setHandler((request, response) =>
      sendJson(
        response,
        200,
        { jsonrpc: '2.0', id: asRpcRequest(request.json).id, error: { code: -32005, message: 'limit' } },
        { 'retry-after': '2' },
      ),
    );
    await expect(transport().call('getSlot')).rejects.toMatchObject({ context: { retryAfterMs: 2_000 } });
  });
});

describe('protocol violations', () => {
  it.each([
    ['text', 'definitely not json', 'HTTP_MALFORMED_RESPONSE'],
    ['truncated JSON', '{"jsonrpc":"2.0","id":1,"res', 'HTTP_MALFORMED_RESPONSE'],
    ['an empty body', '', 'HTTP_MALFORMED_RESPONSE'],
    ['an HTML page', '<html><body>Cloudflare</body></html>', 'HTTP_MALFORMED_RESPONSE'],
  ])('a body of %s is a protocol error', async (_what, body, code) => {
    server.setHandler((_request, response) => {
      // Chunked, so the body is complete as far as HTTP goes and only its content is wrong.
      response.writeHead(200, { 'content-type': body.startsWith('<') ? 'text/html' : 'application/json' });
      response.end(body);
    });
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code, category: 'protocol', context: { status: 200, bytes: Buffer.byteLength(body) } });
    expect(failsOver(error)).toBe(false);
    expect(isCallerError(error)).toBe(false);
  });

  it('names the content type of a non-JSON answer', async () => {
    server.setHandler((_request, response) => sendText(response, 200, 'maintenance'));
    await expect(transport().call('getSlot')).rejects.toMatchObject({ context: { contentType: 'text/plain', body: 'maintenance' } });
  });

  it.each([
    ['a wrong id', (id: unknown) => ({ jsonrpc: '2.0', id: typeof id === 'number' ? id + 1 : 'x', result: 1 }), 'HTTP_RPC_ID_MISMATCH'],
    ['no id', () => ({ jsonrpc: '2.0', result: 1 }), 'HTTP_RPC_ID_MISMATCH'],
    ['a string id for a numeric one', (id: unknown) => ({ jsonrpc: '2.0', id: String(id), result: 1 }), 'HTTP_RPC_ID_MISMATCH'],
    ['no "jsonrpc": "2.0"', (id: unknown) => ({ id, result: 1 }), 'HTTP_RPC_INVALID_RESPONSE'],
    ['JSON-RPC 1.0', (id: unknown) => ({ jsonrpc: '1.0', id, result: 1 }), 'HTTP_RPC_INVALID_RESPONSE'],
    ['neither result nor error', (id: unknown) => ({ jsonrpc: '2.0', id }), 'HTTP_RPC_INVALID_RESPONSE'],
    ['a malformed error member', (id: unknown) => ({ jsonrpc: '2.0', id, error: { code: 'x' } }), 'HTTP_RPC_INVALID_RESPONSE'],
    ['an array', (id: unknown) => [{ jsonrpc: '2.0', id, result: 1 }], 'HTTP_RPC_INVALID_RESPONSE'],
    ['a bare number', () => 42, 'HTTP_RPC_INVALID_RESPONSE'],
  ])('an answer with %s is a protocol error', async (_what, answer, code) => {
    server.setHandler((request, response) => sendJson(response, 200, answer(asRpcRequest(request.json).id)));
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code, category: 'protocol' });
  });

  it('accepts a null result next to a null error (lax servers)', async () => {
    server.setHandler((request, response) =>
      sendJson(response, 200, { jsonrpc: '2.0', id: asRpcRequest(request.json).id, result: null, error: null }),
    );
    await expect(transport().call('getTransaction', ['sig'])).resolves.toBeNull();
  });
});

describe('response size limit', () => {
  it('refuses a declared Content-Length over the limit without reading, then reuses the freed slot', async () => {
    server.setHandler((request, response) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: asRpcRequest(request.json).id, result: 'y'.repeat(5_000) });
      sendText(response, 200, body);
    });
    const rpc = transport({ maxResponseBytes: 1_000, connections: 1 });
    const error = await failure(rpc.call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_RESPONSE_TOO_LARGE', category: 'protocol', context: { limitBytes: 1_000 } });
    expect(error.context.contentLength).toBeGreaterThan(5_000);

    server.setHandler(rpcResults(() => 'small'));
    await expect(rpc.call('getSlot')).resolves.toBe('small');
  });

  it('stops reading an endless body at the limit and frees the connection', async () => {
    server.setHandler((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"jsonrpc":"2.0","result":"');
      const timer = setInterval(() => response.write('z'.repeat(4_096)), 1);
      response.on('close', () => clearInterval(timer));
    });
    const rpc = transport({ maxResponseBytes: 64 * 1024, connections: 1, timeoutMs: 10_000 });
    const error = await failure(rpc.call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_RESPONSE_TOO_LARGE', context: { limitBytes: 64 * 1024 } });
    expect(error.context).not.toHaveProperty('contentLength');

    server.setHandler(rpcResults(() => 'small'));
    await expect(rpc.call('getSlot')).resolves.toBe('small');
  });

  it('lets a single call raise the limit', async () => {
    server.setHandler(rpcResults(() => 'y'.repeat(5_000)));
    const rpc = transport({ maxResponseBytes: 1_000 });
    await expect(rpc.call('getSlot')).rejects.toMatchObject({ code: 'HTTP_RESPONSE_TOO_LARGE' });
    await expect(rpc.call('getSlot', [], { maxResponseBytes: 10_000 })).resolves.toHaveLength(5_000);
  });
});
