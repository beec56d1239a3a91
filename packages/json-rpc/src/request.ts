import { isPlainObject } from '@x/errors';
import { jsonParserFor } from './json.js';
import type { BigIntegerMode } from './json.js';
import { JSON_RPC_ERROR_CODES } from './jsonrpc.js';
import type { JsonRpcErrorObject, JsonRpcId, JsonRpcParams } from './jsonrpc.js';

/**
 * One entry of a request body, checked against JSON-RPC 2.0 (§4).
 * - valid: `id` is the request's id as written (`null` when the client wrote `null`), or `undefined`
 *   for a notification (no `id` member): it is executed and never answered.
 * - invalid: `id` is the request's id when that id itself is valid (the spec asks to echo it), else
 *   `null`; `error` is the -32600 answer, its message naming what is wrong.
 */
export type ParsedRequest =
  | { readonly valid: true; readonly method: string; readonly params: JsonRpcParams | undefined; readonly id: JsonRpcId | null | undefined }
  | { readonly valid: false; readonly id: JsonRpcId | null; readonly error: JsonRpcErrorObject };

/**
 * A whole request body: one request, a batch, or the error that answers the body as a whole
 * (not JSON, an empty batch, a batch over `maxBatchSize`), sent with the id `null`.
 */
export type ParsedRequestBody =
  | { readonly kind: 'single'; readonly request: ParsedRequest }
  | { readonly kind: 'batch'; readonly requests: readonly ParsedRequest[] }
  | { readonly kind: 'error'; readonly reason: 'parse' | 'empty-batch' | 'batch-too-large'; readonly error: JsonRpcErrorObject };

export interface ParseRequestBodyOptions {
  /** The most calls a batch may hold; a larger one is answered as a whole with -32600. Default: no limit. */
  readonly maxBatchSize?: number;
  /**
   * How integers beyond ±(2^53 − 1) are read, in ids and params alike. Default `'bigint'`: exactly, so an
   * id such as 9007199254740993 is echoed with every digit (`JSON.parse` would answer …992).
   */
  readonly bigIntegers?: BigIntegerMode;
}

/**
 * A JSON-RPC 2.0 response object, ready to be written with `stringifyJson` (bigint ids keep every digit).
 * Members come in the order of the specification's examples and of Solana nodes: `jsonrpc`, `result` or
 * `error`, then `id`.
 */
export type JsonRpcResponse =
  | { readonly jsonrpc: '2.0'; readonly result: unknown; readonly id: JsonRpcId | null }
  | { readonly jsonrpc: '2.0'; readonly error: JsonRpcErrorObject; readonly id: JsonRpcId | null };

export function resultResponse(id: JsonRpcId | null, result: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', result, id };
}

export function errorResponse(id: JsonRpcId | null, error: JsonRpcErrorObject): JsonRpcResponse {
  return { jsonrpc: '2.0', error, id };
}

/** Whether `value` may be a request's id: a string, a finite number, a bigint (an integer beyond 2^53) or `null`. */
export function isRequestId(value: unknown): value is JsonRpcId | null {
  return value === null || typeof value === 'string' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value));
}

function invalid(id: JsonRpcId | null, detail: string): ParsedRequest {
  return { valid: false, id, error: { code: JSON_RPC_ERROR_CODES.INVALID_REQUEST, message: `Invalid request: ${detail}` } };
}

/** Checks one request object (an element of a batch, or a whole single body, already parsed). */
export function parseRequest(value: unknown): ParsedRequest {
  if (!isPlainObject(value)) return invalid(null, 'expected a JSON-RPC request object');
  const hasId = Object.hasOwn(value, 'id');
  const id = value.id;
  if (hasId && !isRequestId(id)) return invalid(null, '"id" must be a string, a number or null');
  const answerId = hasId ? (id as JsonRpcId | null) : null;
  if (value.jsonrpc !== '2.0') return invalid(answerId, '"jsonrpc" must be "2.0"');
  const method = value.method;
  if (typeof method !== 'string' || method === '') return invalid(answerId, '"method" must be a non-empty string');
  const params = value.params;
  if (params !== undefined && !Array.isArray(params) && !isPlainObject(params))
    return invalid(answerId, '"params" must be an array or an object');
  return { valid: true, method, params: params as JsonRpcParams | undefined, id: hasId ? (id as JsonRpcId | null) : undefined };
}

/**
 * Parses a request body as a server receives it: a single call, a batch, or the error answering the
 * whole body. The parser's own message is never echoed (it quotes the body, which may hold anything).
 */
export function parseRequestBody(text: string, options: ParseRequestBodyOptions = {}): ParsedRequestBody {
  const { maxBatchSize = Number.POSITIVE_INFINITY, bigIntegers = 'bigint' } = options;
  let value: unknown;
  try {
    value = jsonParserFor(bigIntegers)(text);
  } catch {
    return {
      kind: 'error',
      reason: 'parse',
      error: { code: JSON_RPC_ERROR_CODES.PARSE_ERROR, message: 'Parse error: the body is not valid JSON' },
    };
  }
  if (!Array.isArray(value)) return { kind: 'single', request: parseRequest(value) };
  if (value.length === 0) {
    return {
      kind: 'error',
      reason: 'empty-batch',
      error: { code: JSON_RPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid request: empty batch' },
    };
  }
  if (value.length > maxBatchSize) {
    return {
      kind: 'error',
      reason: 'batch-too-large',
      error: {
        code: JSON_RPC_ERROR_CODES.INVALID_REQUEST,
        message: `Invalid request: a batch of ${value.length} calls exceeds the limit of ${maxBatchSize}`,
        data: { batchSize: value.length, maxBatchSize },
      },
    };
  }
  return { kind: 'batch', requests: value.map(parseRequest) };
}
