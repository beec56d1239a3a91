import type { ErrorCategory, XError } from '@x/errors';
import { JSON_RPC_ERROR_CODES } from '@x/json-rpc';
import type { JsonRpcErrorObject } from '@x/json-rpc';
import { safeText, wsError } from './errors.js';
import type { ErrorEnvironment } from './errors.js';

// Invalid request, unknown method, invalid params: asking another endpoint would not help.
const CALLER_CODES: readonly number[] = [
  JSON_RPC_ERROR_CODES.INVALID_REQUEST,
  JSON_RPC_ERROR_CODES.METHOD_NOT_FOUND,
  JSON_RPC_ERROR_CODES.INVALID_PARAMS,
];

/**
 * The error for a JSON-RPC error answer: `WS_RPC_CALLER_ERROR` (category `config`) for the codes that
 * say the request is wrong, `WS_RPC_ERROR` (category `server`, or the given one) otherwise.
 */
export function rpcError(env: ErrorEnvironment, method: string, error: JsonRpcErrorObject, category?: ErrorCategory): XError {
  const endpoint = env.label;
  const rpcMessage = safeText(error.message, env.secrets);
  const context = { endpoint, method, rpcCode: error.code, rpcMessage };
  if (category === undefined && CALLER_CODES.includes(error.code)) {
    return wsError('WS_RPC_CALLER_ERROR', 'config', `${endpoint} refused ${method}: ${rpcMessage} (${error.code})`, context);
  }
  return wsError(
    'WS_RPC_ERROR',
    category ?? 'server',
    `${endpoint} answered ${method} with an error: ${rpcMessage} (${error.code})`,
    context,
  );
}
