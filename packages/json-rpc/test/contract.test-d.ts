// Type tests of @x/json-rpc's public types (vitest typecheck, and tsc through the package's typecheck):
// the shapes http-transport, solana-rpc, testkit and the proxy build on.
import { describe, expectTypeOf, it } from 'vitest';
import { JSON_RPC_ERROR_CODES, describeId, jsonParserFor, parseJsonWithBigIntegers, parseResponse, stringifyJson } from '@x/json-rpc';
import type { BigIntegerMode, JsonRpcErrorObject, JsonRpcId, JsonRpcParams } from '@x/json-rpc';

describe('JSON-RPC 2.0 types', () => {
  it('an id is a string, a number or a bigint (an integer beyond 2^53); null and absence are kept apart from it', () => {
    expectTypeOf<JsonRpcId>().toEqualTypeOf<string | number | bigint>();
    expectTypeOf(describeId).parameter(0).toEqualTypeOf<JsonRpcId | null | undefined>();
    expectTypeOf(describeId).returns.toEqualTypeOf<string>();
  });

  it('params are by position or by name, read-only', () => {
    expectTypeOf<readonly [1, 'a']>().toExtend<JsonRpcParams>();
    expectTypeOf<{ readonly commitment: 'finalized' }>().toExtend<JsonRpcParams>();
    expectTypeOf<string>().not.toExtend<JsonRpcParams>();
    expectTypeOf<null>().not.toExtend<JsonRpcParams>();
  });

  it('an error object has a numeric code, a message and optional data', () => {
    expectTypeOf<JsonRpcErrorObject>().toEqualTypeOf<{ readonly code: number; readonly message: string; readonly data?: unknown }>();
  });

  it('the reserved codes are literal and read-only', () => {
    expectTypeOf(JSON_RPC_ERROR_CODES.METHOD_NOT_FOUND).toEqualTypeOf<-32601>();
    expectTypeOf(JSON_RPC_ERROR_CODES.PARSE_ERROR).toEqualTypeOf<-32700>();
    // @ts-expect-error the table is frozen
    JSON_RPC_ERROR_CODES.INTERNAL_ERROR = -1;
  });
});

describe('parseResponse', () => {
  it('returns a union discriminated by kind, each arm with the id as read', () => {
    const parsed = parseResponse({ jsonrpc: '2.0', id: 1, result: 2 });
    expectTypeOf(parsed.id).toEqualTypeOf<JsonRpcId | null | undefined>();
    expectTypeOf(parsed.kind).toEqualTypeOf<'result' | 'error' | 'invalid'>();
    if (parsed.kind === 'result') expectTypeOf(parsed.value).toEqualTypeOf<unknown>();
    if (parsed.kind === 'error') expectTypeOf(parsed.error).toEqualTypeOf<JsonRpcErrorObject>();
    if (parsed.kind === 'invalid') expectTypeOf(parsed.reason).toEqualTypeOf<string>();
    // @ts-expect-error value exists on the result arm only
    void parsed.value;
  });

  it('takes any parsed JSON value', () => {
    expectTypeOf(parseResponse).parameter(0).toEqualTypeOf<unknown>();
  });
});

describe('JSON with big integers', () => {
  it('parsers take text and give unknown', () => {
    expectTypeOf(parseJsonWithBigIntegers).toEqualTypeOf<(text: string) => unknown>();
    expectTypeOf(jsonParserFor('bigint')).toEqualTypeOf<(text: string) => unknown>();
  });

  it('the modes are round and bigint only', () => {
    expectTypeOf<BigIntegerMode>().toEqualTypeOf<'round' | 'bigint'>();
    // @ts-expect-error an unknown mode
    jsonParserFor('exact');
  });

  it('stringifyJson gives undefined for what JSON cannot hold', () => {
    expectTypeOf(stringifyJson).returns.toEqualTypeOf<string | undefined>();
  });
});
