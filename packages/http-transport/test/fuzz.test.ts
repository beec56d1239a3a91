import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATEGORIES, isXError } from '@x/errors';
import type { XError } from '@x/errors';
import { DEFAULT_CALLER_ERROR_CODES, DEFAULT_RATE_LIMIT_CODES, createHttpTransport } from '@x/http-transport';
import type { BatchOutcome, HttpTransport } from '@x/http-transport';
import type { ServerResponse } from 'node:http';
import { activeResources, startServer } from './helpers.js';
import type { Received, TestServer } from './helpers.js';

// Bounded for CI; FUZZ_RUNS scales both properties (docs/reliability.md), FC_SEED explores other inputs.
const SEED = Number(process.env.FC_SEED ?? 0x5eed);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

// Shaped like real provider keys, one in the path and one in the query: no outcome may quote them.
const PATH_KEY = 'f00dfeed0a1b2c3d4e5f60718293a4b5';
const QUERY_KEY = 'Qp7Zx2Lm9Vt4Rw8k';
const SECRETS = [PATH_KEY, QUERY_KEY];
/** Replaced by the request URL (with both keys) when the server writes a body: a server quoting what it was sent. */
const URL_MARK = '{URL}';

const ID = 7;
const MAX_BYTES = 4096;
/** Deadline of calls whose response is never completed: the outcome is known, only its wait is bounded. */
const STALL_TIMEOUT_MS = 60;
/** Large FUZZ_RUNS need more than vitest's default test timeout. */
const TEST_TIMEOUT_MS = Math.max(20_000, RUNS * 20);

const KNOWN_CODES = new Set([
  'ABORTED',
  'HTTP_CLOSED',
  'HTTP_NETWORK',
  'HTTP_TIMEOUT',
  'HTTP_RATE_LIMITED',
  'HTTP_SERVER_ERROR',
  'HTTP_CLIENT_ERROR',
  'HTTP_UNEXPECTED_STATUS',
  'HTTP_RESPONSE_TOO_LARGE',
  'HTTP_MALFORMED_RESPONSE',
  'HTTP_RPC_INVALID_RESPONSE',
  'HTTP_RPC_ID_MISMATCH',
  'HTTP_RPC_MISSING_RESPONSE',
  'HTTP_RPC_RATE_LIMITED',
  'HTTP_RPC_SERVER_ERROR',
  'HTTP_RPC_CALLER_ERROR',
]);

/** How the server sends its answer. */
type Delivery =
  | 'whole' // Content-Length and the whole body at once
  | 'chunked' // chunked encoding, several writes a turn apart
  | 'cut' // full Content-Length, half the body, then the connection is destroyed
  | 'stall' // full Content-Length, half the body, then nothing
  | 'hang' // no answer at all
  | 'header-flood' // a 64 KiB response header
  | 'raw'; // arbitrary bytes straight on the socket instead of HTTP

/** What the body is, so that the outcome it must give is known. */
type Body =
  | { readonly kind: 'result'; readonly text: string; readonly value: unknown }
  | { readonly kind: 'rpc-error'; readonly text: string; readonly code: number; readonly nullId: boolean }
  | { readonly kind: 'wrong-id'; readonly text: string }
  | { readonly kind: 'invalid'; readonly text: string }
  | { readonly kind: 'not-json'; readonly text: string }
  | { readonly kind: 'too-large'; readonly text: string }
  | { readonly kind: 'arbitrary'; readonly bytes: Uint8Array };

/** One element of a batch answer. */
type BatchElement =
  | {
      readonly jsonrpc: string;
      readonly id: number | null;
      readonly result?: unknown;
      readonly error?: { readonly code: number; readonly message: string };
    }
  | string;

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Body;
  readonly delivery: Delivery;
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.constant(`failed for ${URL_MARK}`), fc.constant(URL_MARK));
const rpcCode = fc.oneof(
  fc.constantFrom(...DEFAULT_RATE_LIMIT_CODES, ...DEFAULT_CALLER_ERROR_CODES, -32603, -32000, -32700, -32002, 0),
  fc.integer(),
);

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => {
      const parsed: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
      return { kind: 'result' as const, text: JSON.stringify({ id: ID, result: parsed, jsonrpc: '2.0' }), value: parsed };
    }),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        code: rpcCode,
        message: text,
        data: fc.option(fc.oneof(fc.jsonValue({ maxDepth: 2 }), text), { nil: undefined }),
        nullId: fc.boolean(),
      })
      .map(({ code, message, data, nullId }) => ({
        kind: 'rpc-error' as const,
        text: JSON.stringify({
          jsonrpc: '2.0',
          id: nullId ? null : ID,
          error: data === undefined ? { code, message } : { code, message, data },
        }),
        code,
        nullId,
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.integer().filter((id) => id !== ID),
        fc.constant(String(ID)),
        fc.constant(null),
        fc.constant(undefined),
        fc.constant(URL_MARK),
      )
      .map((id) => ({ kind: 'wrong-id' as const, text: JSON.stringify({ jsonrpc: '2.0', id, result: 1 }) })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constant({ jsonrpc: '1.0', id: ID, result: 1 }),
        fc.constant({ id: ID, result: 1 }),
        fc.constant({ jsonrpc: '2.0', id: ID }),
        fc.constant({ jsonrpc: '2.0', id: ID, error: { code: 'x', message: 1 } }),
        fc.constant({ jsonrpc: '2.0', id: ID, error: { code: 1.5, message: 'half' } }),
        fc.constant([{ jsonrpc: '2.0', id: ID, result: 1 }]),
        fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 1 }))),
      )
      .map((value) => ({ kind: 'invalid' as const, text: JSON.stringify(value) })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constant(''),
        fc.constant(`<html><body>502 Bad Gateway for ${URL_MARK}</body></html>`),
        fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat()).map(([value, at]) => {
          const whole = JSON.stringify({ jsonrpc: '2.0', id: ID, result: value });
          return whole.slice(0, at % whole.length);
        }),
        fc.string({ maxLength: 80 }),
      )
      .filter((candidate) => {
        try {
          JSON.parse(candidate);
          return false;
        } catch {
          return true;
        }
      })
      .map((candidate) => ({ kind: 'not-json' as const, text: candidate })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_BYTES + 1, max: MAX_BYTES * 4 }).map((size) => ({
      kind: 'too-large' as const,
      text: JSON.stringify({ jsonrpc: '2.0', id: ID, result: 'x'.repeat(size) }),
    })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ kind: 'arbitrary' as const, bytes })) },
);

const statusArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(200) },
  { weight: 4, arbitrary: fc.constantFrom(201, 204, 301, 302, 304, 307, 400, 401, 403, 404, 408, 413, 429, 500, 502, 503, 504) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
);

const headersArb = fc
  .record(
    {
      'content-type': fc.oneof(
        fc.constantFrom('application/json', 'text/html; charset=utf-8', 'application/json; charset=latin1'),
        printable,
      ),
      'retry-after': fc.oneof(
        fc.nat({ max: 3600 }).map(String),
        fc.date({ noInvalidDate: true }).map((date) => date.toUTCString()),
        printable,
      ),
      'content-encoding': fc.constantFrom('gzip', 'br', 'identity'),
      'x-note': fc.constant(`served for ${URL_MARK}`),
    },
    { requiredKeys: [] },
  )
  .map((headers) => headers as Record<string, string>);

const deliveryArb: fc.Arbitrary<Delivery> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('whole' as const) },
  { weight: 4, arbitrary: fc.constant('chunked' as const) },
  { weight: 1, arbitrary: fc.constantFrom('cut' as const, 'stall' as const, 'hang' as const, 'header-flood' as const, 'raw' as const) },
);

const answerArb: fc.Arbitrary<Answer> = fc.record({ status: statusArb, headers: headersArb, body: bodyArb, delivery: deliveryArb });

function bodyBytes(body: Body, requestUrl: string): Buffer {
  if (body.kind === 'arbitrary') return Buffer.from(body.bytes);
  return Buffer.from(body.text.split(URL_MARK).join(requestUrl), 'utf8');
}

function serve(answer: Answer, request: Received, response: ServerResponse): void {
  const socket = response.socket;
  const bytes = bodyBytes(answer.body, request.url);
  const headers: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(answer.headers)) headers[name] = value.split(URL_MARK).join(request.url);
  switch (answer.delivery) {
    case 'hang':
      return;
    case 'raw':
      socket?.end(bytes);
      return;
    case 'header-flood':
      response.writeHead(answer.status, { ...headers, 'x-flood': 'f'.repeat(64 * 1024) });
      response.end(bytes);
      return;
    case 'cut':
    case 'stall':
      response.writeHead(answer.status, { ...headers, 'content-length': bytes.length + 1 });
      response.write(bytes.subarray(0, bytes.length >> 1));
      if (answer.delivery === 'cut') setImmediate(() => socket?.destroy());
      return;
    case 'chunked': {
      response.writeHead(answer.status, headers);
      const pieces = [
        bytes.subarray(0, bytes.length / 3),
        bytes.subarray(bytes.length / 3, (2 * bytes.length) / 3),
        bytes.subarray((2 * bytes.length) / 3),
      ];
      const next = (): void => {
        const piece = pieces.shift();
        if (piece === undefined) {
          response.end();
          return;
        }
        if (piece.length > 0) response.write(piece);
        setImmediate(next);
      };
      next();
      return;
    }
    case 'whole':
      response.writeHead(answer.status, { ...headers, 'content-length': bytes.length });
      response.end(bytes);
  }
}

function rpcErrorCode(code: number): string {
  if (DEFAULT_RATE_LIMIT_CODES.includes(code)) return 'HTTP_RPC_RATE_LIMITED';
  if (DEFAULT_CALLER_ERROR_CODES.includes(code)) return 'HTTP_RPC_CALLER_ERROR';
  return 'HTTP_RPC_SERVER_ERROR';
}

function statusErrorCode(status: number): string {
  if (status === 429) return 'HTTP_RATE_LIMITED';
  if (status === 408) return 'HTTP_TIMEOUT';
  if (status >= 500) return 'HTTP_SERVER_ERROR';
  if (status >= 400) return 'HTTP_CLIENT_ERROR';
  return 'HTTP_UNEXPECTED_STATUS';
}

/**
 * The outcome the README promises for an answer: `{ value }`, one error code, or a set of codes where
 * the transport may legitimately see either (a connection cut before or after its headers went out).
 * `undefined` for arbitrary bytes, which only have to give some outcome of a known kind.
 */
function expected(answer: Answer): { value: unknown } | { codes: readonly string[] } | undefined {
  const { status, body, delivery } = answer;
  const success = status >= 200 && status <= 299;
  // Node sends no body with these, whatever the handler writes.
  const bodiless = status === 204 || status === 304;
  if (delivery === 'hang') return { codes: ['HTTP_TIMEOUT'] };
  if (delivery === 'header-flood') return { codes: ['HTTP_NETWORK'] };
  if (delivery === 'raw') return undefined;
  const byStatus = success ? [] : [statusErrorCode(status)];
  // A server that announces a body on a status that cannot have one breaks HTTP framing: the
  // transport may see no body, a broken connection, an oversized or an unfinished one.
  if (bodiless) return { codes: ['HTTP_MALFORMED_RESPONSE', 'HTTP_NETWORK', 'HTTP_TIMEOUT', 'HTTP_RESPONSE_TOO_LARGE', ...byStatus] };
  if (!success) {
    if (status === 429) return { codes: ['HTTP_RATE_LIMITED'] };
    if (delivery === 'cut') return { codes: ['HTTP_NETWORK', ...byStatus] };
    if (body.kind === 'rpc-error' && delivery !== 'stall') return { codes: [rpcErrorCode(body.code)] };
    return { codes: byStatus };
  }
  // Cut and stalled bodies announce one byte more than they hold; past the limit that is refused unread.
  const declaredTooLarge = bodyBytes(body, '').length + 1 > MAX_BYTES && body.kind !== 'arbitrary';
  if (delivery === 'cut') return { codes: declaredTooLarge ? ['HTTP_RESPONSE_TOO_LARGE', 'HTTP_NETWORK'] : ['HTTP_NETWORK'] };
  if (delivery === 'stall') return { codes: [declaredTooLarge ? 'HTTP_RESPONSE_TOO_LARGE' : 'HTTP_TIMEOUT'] };
  switch (body.kind) {
    case 'result':
      return { value: body.value };
    case 'rpc-error':
      return { codes: [rpcErrorCode(body.code)] };
    case 'wrong-id':
      return { codes: ['HTTP_RPC_ID_MISMATCH'] };
    case 'invalid':
      return { codes: ['HTTP_RPC_INVALID_RESPONSE'] };
    case 'not-json':
      return { codes: ['HTTP_MALFORMED_RESPONSE'] };
    case 'too-large':
      return { codes: ['HTTP_RESPONSE_TOO_LARGE'] };
    case 'arbitrary':
      return undefined;
  }
}

/** Every rendering of an error a log line could pick up, causes included. */
function expectKnownAndSecretFree(error: unknown): asserts error is XError {
  expect(isXError(error), `not an XError: ${inspect(error)}`).toBe(true);
  const xerror = error as XError;
  expect(ERROR_CATEGORIES).toContain(xerror.category);
  expect(KNOWN_CODES.has(xerror.code), `unknown code ${xerror.code}`).toBe(true);
  const renderings = [xerror.message, JSON.stringify(xerror), xerror.stack ?? '', inspect(xerror, { depth: Infinity })];
  for (const rendering of renderings) for (const secret of SECRETS) expect(rendering).not.toContain(secret);
}

let server: TestServer;
let rpc: HttpTransport;
let current: Answer | undefined;
let tcpBaseline = 0;
let timerBaseline = 0;

beforeAll(async () => {
  tcpBaseline = activeResources('TCPSocketWrap') + activeResources('TCPServerWrap');
  // The hook's own timeout timer is counted here, as the test's is at the end.
  timerBaseline = activeResources('Timeout');
  server = await startServer((request, response) => {
    if (current !== undefined) serve(current, request, response);
  });
  rpc = createHttpTransport({
    url: `${server.origin}/v2/${PATH_KEY}?api-key=${QUERY_KEY}`,
    timeoutMs: 10_000,
    maxResponseBytes: MAX_BYTES,
    connections: 4,
  });
});

afterAll(async () => {
  await rpc.close();
  await server.waitForNoConnections();
  await server.stop();
});

const timeoutFor = (answer: Answer): number | undefined =>
  answer.delivery === 'stall' || answer.delivery === 'hang' ? STALL_TIMEOUT_MS : undefined;

describe('JSON-RPC response handling under arbitrary HTTP answers', () => {
  it(
    'every answer gives the documented value or XError (code and category), never a crash, a hang or a leaked secret',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(answerArb, async (answer) => {
          current = answer;
          const timeoutMs = timeoutFor(answer);
          let outcome: { value: unknown } | { error: unknown };
          try {
            outcome = { value: await rpc.call('getSlot', [], { id: ID, ...(timeoutMs === undefined ? {} : { timeoutMs }) }) };
          } catch (error) {
            outcome = { error };
          }
          const want = expected(answer);
          if ('error' in outcome) {
            expectKnownAndSecretFree(outcome.error);
            seen.set(outcome.error.code, (seen.get(outcome.error.code) ?? 0) + 1);
            if (want !== undefined) expect(want).toMatchObject({ codes: expect.arrayContaining([outcome.error.code]) as unknown });
            // Retry-After reaches the error of a 429, as the pool's cool-down needs it.
            const retryAfter = answer.headers['retry-after'];
            if (outcome.error.code === 'HTTP_RATE_LIMITED' && (retryAfter === undefined || /^\d+$/.test(retryAfter))) {
              expect(outcome.error.context.retryAfterMs).toBe(retryAfter === undefined ? undefined : Number(retryAfter) * 1000);
            }
          } else {
            seen.set('value', (seen.get('value') ?? 0) + 1);
            if (want !== undefined) expect(want).toEqual({ value: outcome.value });
          }
        }),
        { numRuns: RUNS, seed: SEED, timeout: 15_000 },
      );
      // The generator must reach the interesting outcomes, or the property proves less than it says.
      for (const code of [
        'value',
        'HTTP_RPC_SERVER_ERROR',
        'HTTP_MALFORMED_RESPONSE',
        'HTTP_RPC_INVALID_RESPONSE',
        'HTTP_SERVER_ERROR',
        'HTTP_CLIENT_ERROR',
      ]) {
        expect(seen.get(code) ?? 0, code).toBeGreaterThan(0);
      }
    },
  );

  it('every batch answer gives one outcome per request, matched by id, in request order', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Elements a server might answer a batch of three (ids 1, 2, 3) with, in any order.
    const element: fc.Arbitrary<BatchElement> = fc.oneof(
      fc
        .record({ id: fc.constantFrom(1, 2, 3), result: fc.jsonValue({ maxDepth: 2 }) })
        .map(({ id, result }) => ({ jsonrpc: '2.0', id, result: JSON.parse(JSON.stringify(result) ?? 'null') as unknown })),
      fc
        .record({ id: fc.constantFrom(1, 2, 3, null), code: rpcCode })
        .map(({ id, code }) => ({ jsonrpc: '2.0', id, error: { code, message: `failed for ${URL_MARK}` } })),
      fc.constant({ jsonrpc: '2.0', id: 99, result: 'stray' }),
      fc.constant('not a response'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 6 }), async (elements) => {
        current = { status: 200, headers: {}, body: { kind: 'invalid', text: JSON.stringify(elements) }, delivery: 'whole' };
        // A batch answered with an array always resolves: a rejection fails the property as it is.
        const outcomes: BatchOutcome[] = await rpc.batch([
          { method: 'getSlot', id: 1 },
          { method: 'getSlot', id: 2 },
          { method: 'getSlot', id: 3 },
        ]);
        expect(outcomes).toHaveLength(3);
        const objects = elements.filter((e): e is Exclude<BatchElement, string> => typeof e === 'object');
        const unattributed = objects.find((e) => e.error !== undefined && e.id === null);
        [1, 2, 3].forEach((id, position) => {
          const outcome = outcomes[position]!;
          const answers = objects.filter((e) => e.id === id);
          if (!outcome.ok) expectKnownAndSecretFree(outcome.error);
          if (answers.length > 1) {
            expect(outcome.ok === false && outcome.error.code).toBe('HTTP_RPC_ID_MISMATCH');
          } else if (answers.length === 1) {
            const only = answers[0]!;
            if (only.error === undefined) expect(outcome).toMatchObject({ ok: true, value: only.result });
            else expect(outcome.ok === false && outcome.error.code).toBe(rpcErrorCode(only.error.code));
          } else if (unattributed?.error !== undefined) {
            expect(outcome.ok === false && outcome.error.code).toBe(rpcErrorCode(unattributed.error.code));
          } else {
            expect(outcome.ok === false && outcome.error.code).toBe('HTTP_RPC_MISSING_RESPONSE');
          }
        });
      }),
      { numRuns: Math.max(1, Math.round(RUNS / 3)), seed: SEED, timeout: 15_000 },
    );
  });

  it('leaves no socket behind once closed, whatever it was served', async () => {
    current = {
      status: 200,
      headers: {},
      body: { kind: 'result', text: JSON.stringify({ jsonrpc: '2.0', id: ID, result: 1 }), value: 1 },
      delivery: 'whole',
    };
    await expect(rpc.call('getSlot', [], { id: ID })).resolves.toBe(1);
    await rpc.close();
    await server.waitForNoConnections();
    await new Promise((resolve) => setImmediate(resolve));
    expect(activeResources('TCPSocketWrap') + activeResources('TCPServerWrap')).toBe(tcpBaseline + 1); // the test server's listener
    expect(activeResources('Timeout')).toBe(timerBaseline);
  });
});
