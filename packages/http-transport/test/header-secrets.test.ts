import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from '@x/http-transport';
import { sendJson, sendText, startServer } from './helpers.js';
import type { Handler, TestServer } from './helpers.js';

// Credentials given as headers (providers that take `Authorization: Bearer …` or `x-api-key`).
const BEARER = 'hdrTok3n0123456789abcdef';
const API_KEY = 'K9x2m7Qp4Zt8Wv3L';
const SECRETS = [BEARER, API_KEY];

let server: TestServer;

beforeAll(async () => {
  server = await startServer(() => {});
});

afterAll(async () => {
  await server.stop();
});

/** Quotes back the credentials the request carried, as a misbehaving provider or proxy in between might. */
const quoted = (headers: Record<string, string | string[] | undefined>): string =>
  `authorization=${String(headers.authorization)} x-api-key=${String(headers['x-api-key'])}`;

const echoingServers: [string, Handler, string][] = [
  ['a 500 body', (request, response) => sendText(response, 500, `upstream failed: ${quoted(request.headers)}`), 'HTTP_SERVER_ERROR'],
  ['a 403 body', (request, response) => sendText(response, 403, `forbidden: ${quoted(request.headers)}`), 'HTTP_CLIENT_ERROR'],
  [
    'a 429 body',
    (request, response) => sendText(response, 429, `slow down ${quoted(request.headers)}`, { 'retry-after': '1' }),
    'HTTP_RATE_LIMITED',
  ],
  [
    'a JSON-RPC error message and data',
    (request, response) =>
      sendJson(response, 200, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32603, message: quoted(request.headers), data: { echo: quoted(request.headers) } },
      }),
    'HTTP_RPC_SERVER_ERROR',
  ],
  [
    'a non-JSON body and content type',
    (request, response) => sendText(response, 200, quoted(request.headers), { 'content-type': `text/plain; ${quoted(request.headers)}` }),
    'HTTP_MALFORMED_RESPONSE',
  ],
  [
    'a wrong id',
    (request, response) => sendJson(response, 200, { jsonrpc: '2.0', id: quoted(request.headers), result: 1 }),
    'HTTP_RPC_ID_MISMATCH',
  ],
];

describe('credentials given as headers never reach an error, even when the server quotes them back', () => {
  it.each(echoingServers)('%s', async (_what, handler, code) => {
    server.setHandler(handler);
    const rpc = createHttpTransport({
      url: server.origin,
      headers: { authorization: `Bearer ${BEARER}`, 'x-api-key': API_KEY },
      timeoutMs: 2_000,
    });
    try {
      const error = await rpc.call('getSlot').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code });
      // The server did get them: the test would prove nothing otherwise.
      expect(server.received.at(-1)!.headers.authorization).toBe(`Bearer ${BEARER}`);
      const renderings = [
        (error as Error).message,
        JSON.stringify(error),
        (error as Error).stack ?? '',
        inspect(error, { depth: Infinity }),
      ];
      for (const rendering of renderings) for (const secret of SECRETS) expect(rendering).not.toContain(secret);
    } finally {
      await rpc.close();
    }
  });
});
