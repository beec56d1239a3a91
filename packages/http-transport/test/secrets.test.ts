import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { asRpcRequest, hang, sendJson, sendText, startServer } from './helpers.js';
import type { Handler, TestServer } from './helpers.js';

// Shaped like real provider keys: one in the path, one in the query string.
const PATH_KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
const QUERY_KEY = 'Zk93LmQ0pXw7Rt2v';
const SECRETS = [PATH_KEY, QUERY_KEY];

let server: TestServer;
const open: HttpTransport[] = [];

function transport(options: Partial<HttpTransportOptions> = {}): HttpTransport {
  const created = createHttpTransport({ url: `${server.origin}/v2/${PATH_KEY}?api-key=${QUERY_KEY}`, timeoutMs: 2_000, ...options });
  open.push(created);
  return created;
}

/** Every way an error reaches a human or a log: message, context, JSON, stack and util.inspect (which prints causes). */
function expectNoSecret(error: unknown): void {
  expect(isXError(error)).toBe(true);
  const renderings = [
    (error as Error).message,
    JSON.stringify(error),
    JSON.stringify((error as { context: unknown }).context),
    (error as Error).stack ?? '',
    inspect(error, { depth: Infinity }),
  ];
  for (const rendering of renderings) {
    for (const secret of SECRETS) expect(rendering).not.toContain(secret);
  }
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  server = await startServer(hang);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await server.stop();
});

// Servers that quote the request URL (with its keys) back in every place an error can pick up text.
const echoingServers: [string, Handler, string][] = [
  ['a 500 body', (request, response) => sendText(response, 500, `upstream failed for ${request.url}`), 'HTTP_SERVER_ERROR'],
  ['a 401 body', (request, response) => sendText(response, 401, `invalid key in ${request.url}`), 'HTTP_CLIENT_ERROR'],
  [
    'a 429 JSON-RPC body',
    (request, response) => sendJson(response, 429, { jsonrpc: '2.0', id: null, error: { code: -32429, message: request.url } }),
    'HTTP_RATE_LIMITED',
  ],
  [
    'a JSON-RPC error message and data',
    (request, response) =>
      sendJson(response, 200, {
        jsonrpc: '2.0',
        id: asRpcRequest(request.json).id,
        error: { code: -32602, message: `bad params for ${request.url}`, data: { url: request.url, key: PATH_KEY } },
      }),
    'HTTP_RPC_CALLER_ERROR',
  ],
  [
    'a non-JSON body',
    (request, response) => sendText(response, 200, request.url, { 'content-type': `text/plain; key=${QUERY_KEY}` }),
    'HTTP_MALFORMED_RESPONSE',
  ],
  ['a wrong id', (request, response) => sendJson(response, 200, { jsonrpc: '2.0', id: request.url, result: 1 }), 'HTTP_RPC_ID_MISMATCH'],
];

describe('API keys in the endpoint URL never reach an error or a label', () => {
  it('the default label is the redacted URL', () => {
    const rpc = transport();
    expect(rpc.label).toBe(`${server.origin}/v2/***?api-key=***`);
  });

  it('a label given by the caller is redacted too', () => {
    const rpc = transport({ label: `mainnet via ${PATH_KEY}` });
    expect(rpc.label).toBe('mainnet via ***');
  });

  it.each(echoingServers)('%s echoing the URL', async (_what, handler, code) => {
    server.setHandler(handler);
    const error = await failure(transport().call('getSlot'));
    expect(error).toMatchObject({ code });
    expectNoSecret(error);
  });

  it('a batch item error echoing the URL', async () => {
    server.setHandler((request, response) => {
      const [item] = (request.json as unknown[]).map(asRpcRequest);
      sendJson(response, 200, [{ jsonrpc: '2.0', id: item!.id, error: { code: -32000, message: `failed ${request.url}` } }]);
    });
    const [outcome] = await transport().batch([{ method: 'getSlot' }]);
    expect(outcome!.ok).toBe(false);
    if (!outcome!.ok) expectNoSecret(outcome!.error);
  });

  it('a timeout', async () => {
    server.setHandler(hang);
    const error = await failure(transport().call('getSlot', [], { timeoutMs: 50 }));
    expect(error).toMatchObject({ code: 'HTTP_TIMEOUT' });
    expectNoSecret(error);
  });

  it('an oversized body', async () => {
    server.setHandler((request, response) => sendText(response, 200, request.url.repeat(100)));
    const error = await failure(transport({ maxResponseBytes: 100 }).call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_RESPONSE_TOO_LARGE' });
    expectNoSecret(error);
  });

  it('a refused connection', async () => {
    const gone = await startServer(hang);
    await gone.stop();
    const rpc = createHttpTransport({ url: `http://127.0.0.1:${gone.port}/v2/${PATH_KEY}?api-key=${QUERY_KEY}` });
    open.push(rpc);
    const error = await failure(rpc.call('getSlot'));
    expect(error).toMatchObject({ code: 'HTTP_NETWORK' });
    expectNoSecret(error);
  });

  it('invalid options naming the URL', () => {
    let error: unknown;
    try {
      createHttpTransport({ url: `ftp://example.com/v2/${PATH_KEY}?api-key=${QUERY_KEY}` });
    } catch (caught) {
      error = caught;
    }
    // The one configuration-error shape of @x/errors: the option at fault, and the value received, redacted.
    expect(error).toMatchObject({
      code: 'HTTP_INVALID_OPTIONS',
      context: { option: 'url', received: '"ftp://example.com/v2/***?api-key=***"' },
    });
    expectNoSecret(error);
  });
});
