import { isPlainObject } from '@x/errors';
import { stringifyJson } from './json.js';

/**
 * A JSON-RPC id, one type for every package, with these rules:
 * - on the wire an id is a string or a number; an integer beyond ±(2^53 − 1), read with
 *   `parseJsonWithBigIntegers` (what `parseRequestBody` does by default), is a `bigint`, so that it is
 *   echoed with every digit;
 * - `null` is not a `JsonRpcId`: it is the id of an answer to a body or request whose id could not be
 *   read, written `JsonRpcId | null` where it may occur (a client may also send `null`);
 * - a request without an `id` member is a notification: its id is `undefined`, and it is never answered;
 * - clients of this repository (`@x/http-transport`) only ever send strings and safe integers.
 */
export type JsonRpcId = string | number | bigint;

/** JSON-RPC `params`: by position or by name. */
export type JsonRpcParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/** The error codes JSON-RPC 2.0 reserves (§5.1), by name. */
export const JSON_RPC_ERROR_CODES = Object.freeze({
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
});

/** The `error` member of a JSON-RPC 2.0 response. */
export interface JsonRpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/**
 * One element of a response body, checked against JSON-RPC 2.0. `id` is `undefined` when the member
 * is missing or not a string/number/null; matching ids to requests is the caller's job.
 */
export type ParsedResponse =
  | { readonly kind: 'result'; readonly id: JsonRpcId | null | undefined; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: JsonRpcId | null | undefined; readonly error: JsonRpcErrorObject }
  | { readonly kind: 'invalid'; readonly id: JsonRpcId | null | undefined; readonly reason: string };

function readId(value: unknown): JsonRpcId | null | undefined {
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))) return value;
  return undefined;
}

export function parseResponse(element: unknown): ParsedResponse {
  if (!isPlainObject(element)) return { kind: 'invalid', id: undefined, reason: 'a response is not a JSON object' };
  const id = readId(element.id);
  if (element.jsonrpc !== '2.0') return { kind: 'invalid', id, reason: 'the response is not JSON-RPC 2.0 ("jsonrpc": "2.0" missing)' };
  // Some servers send the unused member as null ("result": null next to an error); only a non-null
  // `error` makes a response an error.
  const error = element.error;
  if (error !== undefined && error !== null) {
    if (!isPlainObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
      return { kind: 'invalid', id, reason: 'the error member is not {code: integer, message: string}' };
    }
    return { kind: 'error', id, error: { code: error.code as number, message: error.message, data: error.data } };
  }
  if (!('result' in element)) return { kind: 'invalid', id, reason: 'the response has neither result nor error' };
  return { kind: 'result', id, value: element.result };
}

export function describeId(id: JsonRpcId | null | undefined): string {
  return id === undefined ? 'no id' : (stringifyJson(id) as string);
}
