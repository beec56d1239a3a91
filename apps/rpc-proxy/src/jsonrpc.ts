import { parseJsonWithBigIntegers } from '@x/json-rpc';

/**
 * The JSON-RPC 2.0 codes this proxy answers with. The standard ones keep their meaning; the proxy's own
 * live in -32050…-32059, clear of the codes Solana nodes use (-32001…-32019) so that a node's own error,
 * passed through, is never confused with one of the proxy's.
 */
export const PROXY_RPC_ERROR_CODES = Object.freeze({
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  UPSTREAM_UNAVAILABLE: -32050,
  UPSTREAM_TIMEOUT: -32051,
  UPSTREAM_RATE_LIMITED: -32052,
  NO_CONSENSUS: -32053,
  UPSTREAM_INVALID_RESPONSE: -32054,
  UNAUTHORIZED: -32055,
});

/**
 * A request id as the client wrote it: an integer beyond 2^53 is a `bigint`, so that it is echoed
 * with every digit (`JSON.parse` would round 9007199254740993 to …992).
 */
export type RpcId = string | number | bigint | null;

export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly result: unknown }
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly error: RpcErrorObject };

/** One entry of a request body, checked against JSON-RPC 2.0. */
export type ParsedCall =
  | {
      readonly valid: true;
      readonly method: string;
      readonly params: readonly unknown[] | Readonly<Record<string, unknown>> | undefined;
      /** `undefined` for a notification: executed, never answered. */
      readonly id: RpcId | undefined;
    }
  | { readonly valid: false; readonly id: RpcId; readonly error: RpcErrorObject };

export type ParsedBody =
  | { readonly kind: 'single'; readonly call: ParsedCall }
  | { readonly kind: 'batch'; readonly calls: readonly ParsedCall[] }
  | { readonly kind: 'error'; readonly error: RpcErrorObject };

export function rpcError(id: RpcId, error: RpcErrorObject): RpcResponse {
  return { jsonrpc: '2.0', id, error };
}

export function rpcResult(id: RpcId, result: unknown): RpcResponse {
  return { jsonrpc: '2.0', id, result };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validId(value: unknown): value is RpcId {
  return value === null || typeof value === 'string' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value));
}

function invalid(id: RpcId, detail: string): ParsedCall {
  return { valid: false, id, error: { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, message: `Invalid request: ${detail}` } };
}

/** Checks one request object; a bad one keeps its id when that id itself is valid, as the spec asks. */
export function parseCall(value: unknown): ParsedCall {
  if (!isRecord(value)) return invalid(null, 'expected a JSON-RPC request object');
  const hasId = Object.hasOwn(value, 'id');
  const id = value['id'];
  if (hasId && !validId(id)) return invalid(null, '"id" must be a string, a number or null');
  const answerId: RpcId = hasId ? (id as RpcId) : null;
  if (value['jsonrpc'] !== '2.0') return invalid(answerId, '"jsonrpc" must be "2.0"');
  const method = value['method'];
  if (typeof method !== 'string' || method === '') return invalid(answerId, '"method" must be a non-empty string');
  const params = value['params'];
  if (params !== undefined && !Array.isArray(params) && !isRecord(params)) {
    return invalid(answerId, '"params" must be an array or an object');
  }
  return {
    valid: true,
    method,
    params: params as readonly unknown[] | Readonly<Record<string, unknown>> | undefined,
    id: hasId ? (id as RpcId) : undefined,
  };
}

/**
 * Parses a request body: a single call, a batch of at most `maxBatchSize`, or the error that answers
 * the whole body. Integers beyond 2^53 (in ids and params) are read exactly, as `bigint`s, and are
 * written back with every digit, upstream and in the answer.
 */
export function parseBody(text: string, maxBatchSize: number): ParsedBody {
  let value: unknown;
  try {
    value = parseJsonWithBigIntegers(text);
  } catch {
    // The parser's message quotes the body, which may hold anything the client sent: it is not echoed.
    return { kind: 'error', error: { code: PROXY_RPC_ERROR_CODES.PARSE_ERROR, message: 'Parse error: the body is not valid JSON' } };
  }
  if (!Array.isArray(value)) return { kind: 'single', call: parseCall(value) };
  if (value.length === 0) {
    return { kind: 'error', error: { code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST, message: 'Invalid request: empty batch' } };
  }
  if (value.length > maxBatchSize) {
    return {
      kind: 'error',
      error: {
        code: PROXY_RPC_ERROR_CODES.INVALID_REQUEST,
        message: `Invalid request: a batch of ${value.length} calls exceeds the limit of ${maxBatchSize}`,
        data: { batchSize: value.length, maxBatchSize },
      },
    };
  }
  return { kind: 'batch', calls: value.map(parseCall) };
}
