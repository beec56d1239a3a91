import { isXError, redactSecrets } from '@x/errors';
import type { XError } from '@x/errors';
import { parseJsonWithBigIntegers, stringifyJson } from '@x/json-rpc';
import { jsonRpcErrorOf } from '@x/solana-rpc';
import { PROXY_RPC_ERROR_CODES } from './jsonrpc.js';
import type { RpcErrorObject } from './jsonrpc.js';

const MAX_MESSAGE_LENGTH = 300;

function codeFor(error: XError, timedOut: boolean): number {
  if (timedOut) return PROXY_RPC_ERROR_CODES.UPSTREAM_TIMEOUT;
  if (error.code === 'STRATEGY_QUORUM_UNREACHABLE' || error.code === 'SOLANA_NO_CONSENSUS') return PROXY_RPC_ERROR_CODES.NO_CONSENSUS;
  switch (error.category) {
    case 'config':
      return PROXY_RPC_ERROR_CODES.INVALID_PARAMS;
    case 'timeout':
      return PROXY_RPC_ERROR_CODES.UPSTREAM_TIMEOUT;
    case 'rate-limit':
      return PROXY_RPC_ERROR_CODES.UPSTREAM_RATE_LIMITED;
    case 'protocol':
      return PROXY_RPC_ERROR_CODES.UPSTREAM_INVALID_RESPONSE;
    case 'network':
    case 'server':
      return PROXY_RPC_ERROR_CODES.UPSTREAM_UNAVAILABLE;
    case 'aborted':
      return PROXY_RPC_ERROR_CODES.INTERNAL_ERROR;
  }
}

function cut(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

/** JSON round trip with every secret replaced; `undefined` for data that is not plain JSON. */
function redactData(data: unknown, secrets: readonly string[]): unknown {
  if (data === undefined) return undefined;
  try {
    // Node error data keeps its exact integers beyond 2^53 through the round trip.
    const text = stringifyJson(data);
    return text === undefined ? undefined : parseJsonWithBigIntegers(redactSecrets(text, secrets));
  } catch {
    return undefined;
  }
}

/**
 * The JSON-RPC error a client gets for a failed call. A node's own error (the same from every endpoint
 * that answered, as `jsonRpcErrorOf` of `@x/solana-rpc` finds it) is passed through with its code and data; anything else gets one of the proxy's codes, with
 * `data: { code, category }` naming the `@x` error. `secrets` (every endpoint's URL secrets, header
 * values, the bearer token) are removed from the message and data, on top of the redaction the
 * transports already do.
 */
export function toRpcError(value: unknown, secrets: readonly string[], options: { readonly timedOut?: boolean } = {}): RpcErrorObject {
  if (!isXError(value)) {
    return { code: PROXY_RPC_ERROR_CODES.INTERNAL_ERROR, message: 'Internal error' };
  }
  const timedOut = options.timedOut === true;
  const upstream = timedOut ? undefined : jsonRpcErrorOf(value);
  if (upstream !== undefined) {
    const data = redactData(upstream.data, secrets);
    return {
      code: upstream.code,
      message: cut(redactSecrets(upstream.message, secrets)),
      ...(data === undefined ? {} : { data }),
    };
  }
  const message = timedOut ? 'Request time limit exceeded' : cut(redactSecrets(value.message, secrets));
  return { code: codeFor(value, timedOut), message, data: { code: value.code, category: value.category } };
}
