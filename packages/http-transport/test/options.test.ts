import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createHttpTransport, isCallerError } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import type { JsonRpcParams } from '@x/json-rpc';
import { rpcResults, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

let server: TestServer;
const open: HttpTransport[] = [];

function transport(options: Partial<HttpTransportOptions> = {}): HttpTransport {
  const created = createHttpTransport({ url: `${server.origin}/rpc`, ...options });
  open.push(created);
  return created;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

beforeAll(async () => {
  server = await startServer(rpcResults(() => 'ok'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await server.stop();
});

describe('options', () => {
  it.each<[string, Partial<HttpTransportOptions>]>([
    ['a URL that does not parse', { url: 'not a url' }],
    ['a non-HTTP URL', { url: 'ws://127.0.0.1:1/' }],
    ['a zero timeout', { timeoutMs: 0 }],
    ['an infinite timeout', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['a fractional connection count', { connections: 1.5 }],
    ['zero connections', { connections: 0 }],
    ['a negative size limit', { maxResponseBytes: -1 }],
    ['negative pipelining', { pipelining: -1 }],
    ['a zero keep-alive', { keepAliveTimeoutMs: 0 }],
    ['an empty label', { label: ' ' }],
    ['a header value with a line break', { headers: { 'x-token': 'a\r\nb' } }],
    ['a header name that is not a token', { headers: { 'x token': 'a' } }],
    ['a header the pool manages', { headers: { Connection: 'close' } }],
    ['non-integer JSON-RPC codes', { rateLimitCodes: [1.5] }],
    ['an unknown big-integer mode', { bigIntegers: 'string' as never }],
  ])('refuses %s with HTTP_INVALID_OPTIONS', (_what, options) => {
    const error = thrown(() => createHttpTransport({ url: `${server.origin}/rpc`, ...options }));
    expect(isXError(error, 'HTTP_INVALID_OPTIONS')).toBe(true);
    expect(error).toMatchObject({ category: 'config' });
    expect(isCallerError(error)).toBe(true);
  });

  it('never echoes a header value in the error', () => {
    const error = thrown(() => createHttpTransport({ url: server.origin, headers: { authorization: 'Bearer tok\nen-secret' } }));
    expect(JSON.stringify(error)).not.toContain('tok');
  });

  it('a per-call timeout overrides the default and is validated like it', async () => {
    const rpc = transport();
    await expect(rpc.call('getSlot', [], { timeoutMs: 1_000 })).resolves.toBe('ok');
    await expect(rpc.call('getSlot', [], { timeoutMs: -5 })).rejects.toMatchObject({ code: 'HTTP_INVALID_REQUEST', category: 'config' });
  });
});

describe('requests', () => {
  it.each<[string, () => Promise<unknown>]>([
    ['an empty method', () => transport().call('')],
    ['params that are neither array nor object', () => transport().call('getSlot', 'x' as unknown as JsonRpcParams)],
    [
      'params holding a cycle',
      () => {
        const cyclic: Record<string, unknown> = { bigint: 10n };
        cyclic.self = cyclic;
        return transport().call('getBalance', [cyclic]);
      },
    ],
    ['a fractional id', () => transport().call('getSlot', [], { id: 1.5 })],
    ['a batch item that is not an object', () => transport().batch([null as never])],
    ['a batch item without a method', () => transport().batch([{ method: 'a' }, {} as never])],
  ])('refuses %s with HTTP_INVALID_REQUEST and sends nothing', async (_what, call) => {
    const before = server.received.length;
    const error: unknown = await call().catch((e: unknown) => e);
    expect(isXError(error, 'HTTP_INVALID_REQUEST')).toBe(true);
    expect(isCallerError(error)).toBe(true);
    expect(server.received.length).toBe(before);
  });
});
