import { RPC_ERROR_CODES, type RpcErrorObject } from './methods.js';

export type JsonRpcId = string | number | null;

/** One entry of a request: a call to run, or an entry so malformed it only gets an error. */
export type CallEntry =
  | { readonly valid: true; readonly id: JsonRpcId; readonly notification: boolean; readonly method: string; readonly params: unknown }
  | { readonly valid: false; readonly id: JsonRpcId };

export type Envelope =
  | { readonly kind: 'parse-error' }
  | { readonly kind: 'empty-batch' }
  | { readonly kind: 'single'; readonly entry: CallEntry }
  | { readonly kind: 'batch'; readonly entries: readonly CallEntry[] };

function isId(value: unknown): value is JsonRpcId {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function toEntry(value: unknown): CallEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { valid: false, id: null };
  const call = value as Record<string, unknown>;
  const hasId = Object.hasOwn(call, 'id');
  const id = hasId && isId(call.id) ? call.id : null;
  if (call.jsonrpc !== '2.0' || typeof call.method !== 'string' || (hasId && !isId(call.id))) return { valid: false, id };
  return { valid: true, id, notification: !hasId, method: call.method, params: call.params };
}

export function parseEnvelope(body: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'parse-error' };
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { kind: 'empty-batch' };
    return { kind: 'batch', entries: parsed.map(toEntry) };
  }
  return { kind: 'single', entry: toEntry(parsed) };
}

export function errorResponse(id: JsonRpcId, error: RpcErrorObject): Record<string, unknown> {
  return { jsonrpc: '2.0', error, id };
}

export function resultResponse(id: JsonRpcId, result: unknown): Record<string, unknown> {
  return { jsonrpc: '2.0', result, id };
}

export const PARSE_ERROR: RpcErrorObject = Object.freeze({ code: RPC_ERROR_CODES.parseError, message: 'Parse error' });
export const INVALID_REQUEST: RpcErrorObject = Object.freeze({ code: RPC_ERROR_CODES.invalidRequest, message: 'Invalid request' });
export const INTERNAL_ERROR: RpcErrorObject = Object.freeze({ code: RPC_ERROR_CODES.internalError, message: 'Internal error' });

// JSON has no 64-bit integers in JavaScript; Solana prints u64 values such as `rentEpoch`
// (18446744073709551615) as bare digits, and so do we: bigints become digits in the output text.
const BIGINT_MARK = '\u0000bigint:';
const BIGINT_PATTERN = /"\\u0000bigint:(\d+)"/g;

export function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? `${BIGINT_MARK}${item.toString()}` : item)).replace(
    BIGINT_PATTERN,
    '$1',
  );
}
