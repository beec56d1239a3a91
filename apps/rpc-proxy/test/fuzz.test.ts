import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROXY_RPC_ERROR_CODES } from '../src/jsonrpc.js';
import { startHarness } from './helpers.js';
import type { Harness } from './helpers.js';

// Bounded for CI; FUZZ_RUNS scales both properties (docs/reliability.md), FC_SEED explores other inputs.
const SEED = Number(process.env.FC_SEED ?? 0x5eed);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TEST_TIMEOUT_MS = Math.max(20_000, RUNS * 30);

const MAX_BODY_BYTES = 4096;
const MAX_BATCH_SIZE = 5;
const TOKEN = 'fuzz-token-0123456789abcdef';
/** Forwarded (the simulated nodes answer some and refuse others), refused by the allow-list, or garbage. */
const METHODS = ['getSlot', 'getHealth', 'getBalance', 'getBlockHeight', 'requestAirdrop', 'notAMethod', 'eth_chainId'];
const ALLOWED = new Set(['getSlot', 'getHealth', 'getBalance', 'getBlockHeight']);

let open: Harness;
let guarded: Harness;

beforeAll(async () => {
  open = await startHarness({ limits: { maxBodyBytes: MAX_BODY_BYTES, maxBatchSize: MAX_BATCH_SIZE } });
  guarded = await startHarness({ token: TOKEN });
});

afterAll(async () => {
  await open.close();
  await guarded.close();
});

const requestLike = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, fc.constantFrom('1.0', 2, null)),
    id: fc.oneof(
      { weight: 4, arbitrary: fc.integer() },
      { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
      fc.constant(null),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(true, {}, [1]),
    ),
    method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...METHODS) }, fc.constantFrom('', 7, null), fc.string({ maxLength: 10 })),
    params: fc.oneof(
      fc.constant([]),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.integer()),
      fc.constantFrom('x', 3, true),
    ),
  },
  { requiredKeys: [] },
);

/** A body and what it is. */
type Body =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 6, arbitrary: requestLike.map((value) => ({ kind: 'json' as const, value })) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof({ weight: 4, arbitrary: requestLike }, fc.jsonValue({ maxDepth: 1 })), { maxLength: MAX_BATCH_SIZE + 2 })
      .map((value) => ({ kind: 'json' as const, value })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => ({ kind: 'json' as const, value })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES * 3 })
      .map((size) => ({ kind: 'text' as const, text: `[${' '.repeat(size)}]` })),
  },
);

const contentTypeArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  fc.constantFrom('application/json; charset=utf-8', 'Application/JSON', 'text/plain', 'application/x-www-form-urlencoded'),
);

function bytesOf(body: Body): Uint8Array {
  if (body.kind === 'bytes') return body.bytes;
  return new TextEncoder().encode(body.kind === 'text' ? body.text : (JSON.stringify(body.value) ?? 'null'));
}

type Id = string | number | null;
type Expected =
  | { readonly status: 413 | 415; readonly code: number }
  | { readonly status: 204 }
  | { readonly status: 200; readonly whole: { readonly code: number; readonly data?: unknown } }
  | { readonly status: 200; readonly answers: readonly ExpectedAnswer[]; readonly batch: boolean };
/** `code` for an error the proxy itself decides; `undefined` when it is up to the node (a result or its error). */
type ExpectedAnswer = { readonly id: Id; readonly code: number | undefined };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is Id =>
  value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** JSON-RPC 2.0 §4–6 for one entry: its answer, or `undefined` for a valid notification (executed, never answered). */
function expectedEntry(entry: unknown): ExpectedAnswer | undefined {
  const invalid = PROXY_RPC_ERROR_CODES.INVALID_REQUEST;
  if (!isRecord(entry)) return { id: null, code: invalid };
  const hasId = Object.hasOwn(entry, 'id');
  if (hasId && !isId(entry.id)) return { id: null, code: invalid };
  const id = hasId ? (entry.id as Id) : null;
  const params = entry.params;
  const valid =
    entry.jsonrpc === '2.0' &&
    typeof entry.method === 'string' &&
    entry.method !== '' &&
    (params === undefined || Array.isArray(params) || isRecord(params));
  if (!valid) return { id, code: invalid };
  if (!hasId) return undefined;
  return { id, code: ALLOWED.has(entry.method as string) ? undefined : PROXY_RPC_ERROR_CODES.METHOD_NOT_FOUND };
}

function expected(body: Body, contentType: string): Expected {
  if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/json')
    return { status: 415, code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST };
  const bytes = bytesOf(body);
  if (bytes.length > MAX_BODY_BYTES) return { status: 413, code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { status: 200, whole: { code: PROXY_RPC_ERROR_CODES.PARSE_ERROR } };
  }
  if (!Array.isArray(value)) {
    const answer = expectedEntry(value);
    return answer === undefined ? { status: 204 } : { status: 200, answers: [answer], batch: false };
  }
  if (value.length === 0) return { status: 200, whole: { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST } };
  if (value.length > MAX_BATCH_SIZE) {
    return {
      status: 200,
      whole: { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, data: { batchSize: value.length, maxBatchSize: MAX_BATCH_SIZE } },
    };
  }
  const answers = value.map(expectedEntry).filter((answer): answer is ExpectedAnswer => answer !== undefined);
  return answers.length === 0 ? { status: 204 } : { status: 200, answers, batch: true };
}

/** A JSON-RPC 2.0 response object: exactly one of result and error, an integer code and a string message. */
function expectResponse(actual: unknown, want: ExpectedAnswer): void {
  expect(isRecord(actual)).toBe(true);
  const response = actual as Record<string, unknown>;
  expect(response.jsonrpc).toBe('2.0');
  expect(response.id).toEqual(want.id);
  expect('result' in response !== 'error' in response).toBe(true);
  if ('error' in response) {
    const error = response.error as Record<string, unknown>;
    expect(Number.isInteger(error.code) && typeof error.message === 'string').toBe(true);
  }
  if (want.code !== undefined) expect(response).toMatchObject({ error: { code: want.code } });
}

describe('the proxy under arbitrary request bodies', () => {
  it('answers every body with the JSON-RPC 2.0 outcome it must have, never a crash or a 500', { timeout: TEST_TIMEOUT_MS }, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(bodyArb, contentTypeArb, async (body, contentType) => {
        const response = await fetch(open.proxy.url, { method: 'POST', headers: { 'content-type': contentType }, body: bytesOf(body) });
        const text = await response.text();
        const want = expected(body, contentType);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status).toBe(want.status);
        if (want.status === 204) {
          expect(text).toBe('');
          return;
        }
        const json = JSON.parse(text) as unknown;
        if ('code' in want) {
          expect(json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: want.code } });
        } else if ('whole' in want) {
          expect(json).toMatchObject({ jsonrpc: '2.0', id: null, error: want.whole });
        } else if (!want.batch) {
          expectResponse(json, want.answers[0]!);
        } else {
          expect(Array.isArray(json)).toBe(true);
          const answers = json as unknown[];
          expect(answers).toHaveLength(want.answers.length);
          answers.forEach((answer, i) => expectResponse(answer, want.answers[i]!));
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // The generator reaches every kind of answer, or the property proves less than it says.
    for (const status of [200, 204, 413, 415]) expect(statuses.get(status) ?? 0, `HTTP ${status}`).toBeGreaterThan(0);
    // Still serving, and every request was counted.
    const slot = await fetch(open.proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"getSlot"}',
    });
    expect(await slot.json()).toMatchObject({ result: open.cluster.chain.slot() });
    expect(open.proxy.counters().requests).toBeGreaterThanOrEqual(RUNS + 1);
  });

  it('lets no Authorization header through but the exact bearer token, on every route', { timeout: TEST_TIMEOUT_MS }, async () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    const header = fc.oneof(
      printable,
      printable.map((guess) => `Bearer ${guess}`),
      fc.constantFrom(
        `Bearer ${TOKEN}`,
        `bearer ${TOKEN}`,
        `BEARER\t${TOKEN}`,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${TOKEN}`,
        TOKEN,
        `Bearer  ${TOKEN} `,
      ),
      fc
        .tuple(fc.nat({ max: TOKEN.length - 1 }), fc.integer({ min: 0x21, max: 0x7e }))
        .map(([at, code]) => `Bearer ${TOKEN.slice(0, at)}${String.fromCharCode(code)}${TOKEN.slice(at + 1)}`),
    );
    const before = guarded.cluster.stats().reduce((sum, endpoint) => sum + endpoint.requests, 0);
    let admitted = 0;
    await fc.assert(
      fc.asyncProperty(header, fc.constantFrom('/', '/health', '/metrics', '/stats'), async (authorization, path) => {
        const init: RequestInit =
          path === '/'
            ? {
                method: 'POST',
                headers: { authorization, 'content-type': 'application/json' },
                body: '{"jsonrpc":"2.0","id":1,"method":"getHealth"}',
              }
            : { headers: { authorization } };
        const response = await fetch(`${guarded.proxy.url}${path}`, init);
        const text = await response.text();
        // RFC 6750: the scheme is case-insensitive, the token is compared exactly (fetch trims the value).
        const exact = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization.trim())?.[1] === TOKEN;
        expect(response.status === 401).toBe(!exact);
        if (!exact) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        else admitted++;
        expect(text).not.toContain(TOKEN);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(admitted).toBeGreaterThan(0);
    // Refused requests never reach a provider: only the admitted JSON-RPC calls did.
    expect(guarded.cluster.stats().reduce((sum, endpoint) => sum + endpoint.requests, 0) - before).toBeLessThanOrEqual(admitted);
  });
});
