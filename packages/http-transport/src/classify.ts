import type { XError } from '@x/errors';
import { httpError, safeCause, safeData, safeText } from './errors.js';
import type { ErrorEnvironment, RpcErrorContext, StatusErrorContext, TransportFailureContext } from './errors.js';
import type { JsonRpcErrorObject } from '@x/json-rpc';

/** How JSON-RPC error codes map to categories, beyond the fixed rules. */
interface RpcCodeTable {
  readonly rateLimit: ReadonlySet<number>;
  readonly caller: ReadonlySet<number>;
}

export interface ClassifyEnvironment extends ErrorEnvironment {
  readonly rpcCodes: RpcCodeTable;
}

/** HTTP facts that travel with a JSON-RPC error answered on a non-2xx status or with Retry-After. */
export interface ResponseFacts {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
}

/** `base` plus the entries of `extra` that are defined (an absent detail is left out, not set to `undefined`). */
function withOptional<T extends object>(base: Partial<T>, extra: Partial<T>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) out[key] = value;
  return out as T;
}

/**
 * A JSON-RPC error object as an `XError`: a configured rate-limit code → `rate-limit`, a caller code
 * (invalid request / method not found / invalid params by default) → `config`, anything else —
 * -32603, the -32000..-32099 server range, application codes — → `server`.
 */
export function rpcFailure(error: JsonRpcErrorObject, facts: ResponseFacts, env: ClassifyEnvironment): XError {
  const rpcMessage = safeText(error.message, env.secrets);
  const context = withOptional<RpcErrorContext>(
    { endpoint: env.label, status: facts.status, rpcCode: error.code, rpcMessage },
    { retryAfterMs: facts.retryAfterMs, rpcData: safeData(error.data, env.secrets) },
  );
  if (env.rpcCodes.rateLimit.has(error.code)) {
    const wait = facts.retryAfterMs === undefined ? '' : ` (retry after ${facts.retryAfterMs} ms)`;
    return httpError(
      'HTTP_RPC_RATE_LIMITED',
      'rate-limit',
      `${env.label} rate-limited the call (JSON-RPC ${error.code}: ${rpcMessage})${wait}`,
      context,
    );
  }
  if (env.rpcCodes.caller.has(error.code)) {
    return httpError(
      'HTTP_RPC_CALLER_ERROR',
      'config',
      `${env.label} rejected the request (JSON-RPC ${error.code}: ${rpcMessage})`,
      context,
    );
  }
  return httpError('HTTP_RPC_SERVER_ERROR', 'server', `${env.label} failed the call (JSON-RPC ${error.code}: ${rpcMessage})`, context);
}

/**
 * A non-2xx answer (for 429 always; otherwise when its body holds no JSON-RPC error object): 429 → `rate-limit`, 408 →
 * `timeout`, 5xx → `server`, other 4xx → `config` (the request or the credentials are wrong), 1xx/3xx →
 * `protocol` (redirects are not followed: they could carry the API key to another origin).
 */
export function statusFailure(
  facts: ResponseFacts,
  answer: { readonly bodyText?: string | undefined; readonly rpcError?: JsonRpcErrorObject | undefined },
  env: ClassifyEnvironment,
): XError {
  const { status, retryAfterMs } = facts;
  const { bodyText, rpcError } = answer;
  const body = rpcError !== undefined || bodyText === undefined || bodyText.trim() === '' ? undefined : safeText(bodyText, env.secrets);
  const rpcMessage = rpcError === undefined ? undefined : safeText(rpcError.message, env.secrets);
  const context = withOptional<StatusErrorContext>(
    { endpoint: env.label, status },
    { retryAfterMs, rpcCode: rpcError?.code, rpcMessage, body },
  );
  const shown = rpcMessage ?? body;
  const detail = shown === undefined ? '' : `: ${shown}`;
  if (status === 429) {
    const wait = retryAfterMs === undefined ? '' : ` (retry after ${retryAfterMs} ms)`;
    return httpError('HTTP_RATE_LIMITED', 'rate-limit', `${env.label} answered HTTP 429 Too Many Requests${wait}`, context);
  }
  if (status === 408) return httpError('HTTP_TIMEOUT', 'timeout', `${env.label} answered HTTP 408 Request Timeout`, context);
  if (status >= 500) return httpError('HTTP_SERVER_ERROR', 'server', `${env.label} answered HTTP ${status}${detail}`, context);
  if (status >= 400)
    return httpError('HTTP_CLIENT_ERROR', 'config', `${env.label} refused the request with HTTP ${status}${detail}`, context);
  return httpError('HTTP_UNEXPECTED_STATUS', 'protocol', `${env.label} answered HTTP ${status}, expected 2xx`, context);
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CLOSED_CODES = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
const INVALID_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_CHAR',
  'ERR_HTTP_INVALID_HEADER_VALUE',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node's happy-eyeballs connect reports an AggregateError whose members carry the codes.
  const members = (error as { errors?: unknown }).errors;
  if (Array.isArray(members)) {
    for (const member of members) {
      const inner = errorCode(member);
      if (inner !== undefined) return inner;
    }
  }
  return errorCode((error as { cause?: unknown }).cause);
}

/**
 * A failure below HTTP (no response, or the connection broke mid-body), from undici or Node. Anything
 * unrecognised is `network`: the exchange with this endpoint failed, another one may well succeed.
 */
export function transportFailure(error: unknown, env: ErrorEnvironment): XError {
  const code = errorCode(error);
  const detail = safeText(error instanceof Error ? error.message : String(error), env.secrets);
  const cause = safeCause(error, env.secrets);
  const context = withOptional<TransportFailureContext>({ endpoint: env.label }, { causeCode: code });
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return httpError('HTTP_TIMEOUT', 'timeout', `${env.label} timed out: ${detail}`, context, cause);
  }
  if (code !== undefined && CLOSED_CODES.has(code)) {
    return httpError('HTTP_CLOSED', 'aborted', `The transport for ${env.label} is closed`, context, cause);
  }
  if (code !== undefined && INVALID_CODES.has(code)) {
    return httpError('HTTP_INVALID_REQUEST', 'config', `The request to ${env.label} is invalid: ${detail}`, context, cause);
  }
  return httpError('HTTP_NETWORK', 'network', `Network error talking to ${env.label}: ${detail}`, context, cause);
}
