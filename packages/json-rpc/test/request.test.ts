import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JSON_RPC_ERROR_CODES, errorResponse, parseRequest, parseRequestBody, resultResponse, stringifyJson } from '@x/json-rpc';
import type { JsonRpcId } from '@x/json-rpc';

const SEED = Number(process.env.FC_SEED ?? 0x5eed);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Anything a client may put in a request member: right, wrong, or absent. */
const requestLike = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, fc.constantFrom('1.0', 2, null)),
    id: fc.oneof(
      { weight: 4, arbitrary: fc.integer() },
      { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }),
      fc.constant(null),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(true, {}, [1]),
    ),
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('getSlot', 'eth_chainId') },
      fc.constantFrom('', 7, null),
      fc.string({ maxLength: 10 }),
    ),
    params: fc.oneof(
      fc.constant([]),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.integer()),
      fc.constantFrom('x', 3, true, null),
    ),
  },
  { requiredKeys: [] },
);

const isId = (value: unknown): value is JsonRpcId | null =>
  value === null || typeof value === 'string' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value));
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

describe('parseRequest', () => {
  it('accepts exactly the JSON-RPC 2.0 requests, and echoes an id only when the id itself is valid', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 6, arbitrary: requestLike }, fc.jsonValue({ maxDepth: 1 })), (value) => {
        const parsed = parseRequest(value);
        if (!isObject(value)) {
          expect(parsed).toMatchObject({ valid: false, id: null, error: { code: JSON_RPC_ERROR_CODES.INVALID_REQUEST } });
          return;
        }
        const hasId = Object.hasOwn(value, 'id');
        const idValid = !hasId || isId(value.id);
        const shouldBeValid =
          idValid &&
          value.jsonrpc === '2.0' &&
          typeof value.method === 'string' &&
          value.method !== '' &&
          (value.params === undefined || Array.isArray(value.params) || isObject(value.params));
        expect(parsed.valid).toBe(shouldBeValid);
        if (parsed.valid) {
          expect(parsed.method).toBe(value.method);
          expect(parsed.params).toBe(value.params);
          expect(parsed.id).toBe(hasId ? value.id : undefined);
        } else {
          expect(parsed.id).toBe(hasId && idValid ? value.id : null);
          expect(parsed.error.code).toBe(JSON_RPC_ERROR_CODES.INVALID_REQUEST);
          expect(parsed.error.message).toMatch(/^Invalid request: /);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('tells a notification (no id) from a request whose id is null', () => {
    expect(parseRequest({ jsonrpc: '2.0', method: 'getSlot' })).toEqual({
      valid: true,
      method: 'getSlot',
      params: undefined,
      id: undefined,
    });
    expect(parseRequest({ jsonrpc: '2.0', method: 'getSlot', id: null })).toEqual({
      valid: true,
      method: 'getSlot',
      params: undefined,
      id: null,
    });
  });

  it('names what is wrong', () => {
    expect(parseRequest({ jsonrpc: '2.0', id: 3, method: 'getSlot', params: 'x' })).toEqual({
      valid: false,
      id: 3,
      error: { code: -32600, message: 'Invalid request: "params" must be an array or an object' },
    });
    expect(parseRequest({ jsonrpc: '2.0', id: true, method: 'getSlot' })).toMatchObject({
      valid: false,
      id: null,
      error: { message: 'Invalid request: "id" must be a string, a number or null' },
    });
    expect(parseRequest({ jsonrpc: '1.0', id: 'a', method: 'getSlot' })).toMatchObject({
      valid: false,
      id: 'a',
      error: { message: 'Invalid request: "jsonrpc" must be "2.0"' },
    });
  });
});

describe('parseRequestBody', () => {
  it('reads any body as a single request, a batch of them, or one error for the whole body, and never throws', () => {
    const body = fc.oneof(
      fc.string({ maxLength: 40 }),
      requestLike.map((value) => stringifyJson(value) as string),
      fc.array(requestLike, { maxLength: 6 }).map((value) => stringifyJson(value) as string),
    );
    fc.assert(
      fc.property(body, fc.integer({ min: 1, max: 5 }), (text, maxBatchSize) => {
        const parsed = parseRequestBody(text, { maxBatchSize });
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          expect(parsed).toMatchObject({ kind: 'error', reason: 'parse', error: { code: JSON_RPC_ERROR_CODES.PARSE_ERROR } });
          return;
        }
        if (!Array.isArray(value)) expect(parsed.kind).toBe('single');
        else if (value.length === 0)
          expect(parsed).toMatchObject({ kind: 'error', reason: 'empty-batch', error: { code: JSON_RPC_ERROR_CODES.INVALID_REQUEST } });
        else if (value.length > maxBatchSize) {
          expect(parsed).toMatchObject({
            kind: 'error',
            reason: 'batch-too-large',
            error: { code: JSON_RPC_ERROR_CODES.INVALID_REQUEST, data: { batchSize: value.length, maxBatchSize } },
          });
        } else {
          expect(parsed.kind).toBe('batch');
          if (parsed.kind === 'batch') expect(parsed.requests).toHaveLength(value.length);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('keeps every digit of an id beyond 2^53, and echoes it so', () => {
    const parsed = parseRequestBody('{"jsonrpc":"2.0","id":9007199254740993,"method":"getSlot","params":[18446744073709551615]}');
    expect(parsed).toEqual({
      kind: 'single',
      request: { valid: true, method: 'getSlot', params: [18446744073709551615n], id: 9007199254740993n },
    });
    if (parsed.kind !== 'single' || !parsed.request.valid) throw new Error('unreachable');
    expect(stringifyJson(resultResponse(parsed.request.id ?? null, 1))).toBe('{"jsonrpc":"2.0","result":1,"id":9007199254740993}');
  });

  it("reads big integers as JSON.parse does with bigIntegers: 'round'", () => {
    expect(parseRequestBody('{"jsonrpc":"2.0","id":9007199254740993,"method":"m"}', { bigIntegers: 'round' })).toMatchObject({
      request: { id: 9007199254740992 },
    });
  });

  it('never echoes the body in a parse error', () => {
    expect(parseRequestBody('{"secret-token-123"')).toEqual({
      kind: 'error',
      reason: 'parse',
      error: { code: -32700, message: 'Parse error: the body is not valid JSON' },
    });
  });
});

describe('response builders', () => {
  it('build JSON-RPC 2.0 responses, members in the order of the specification and of Solana nodes', () => {
    expect(stringifyJson(resultResponse(1, 2))).toBe('{"jsonrpc":"2.0","result":2,"id":1}');
    expect(resultResponse(1, { ok: true })).toEqual({ jsonrpc: '2.0', id: 1, result: { ok: true } });
    expect(errorResponse(null, { code: -32601, message: 'Method not found' })).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32601, message: 'Method not found' },
    });
  });
});
