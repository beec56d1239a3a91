import { inspect } from 'node:util';
import { XError, hasCategory, redactCause, redactSecrets } from '@x/errors';
import type { ConfigErrorContext, ContextOf, ErrorCategory } from '@x/errors';
import { parseJsonWithBigIntegers, stringifyNotingBigInts } from '@x/json-rpc';
import type { JsonRpcId } from '@x/json-rpc';

/** Every `code` this package's errors carry (besides `ABORTED` from `@x/errors`). Stable: safe to switch on. */
export type HttpTransportErrorCode =
  | 'HTTP_INVALID_OPTIONS'
  | 'HTTP_INVALID_REQUEST'
  | 'HTTP_CLOSED'
  | 'HTTP_NETWORK'
  | 'HTTP_TIMEOUT'
  | 'HTTP_RATE_LIMITED'
  | 'HTTP_SERVER_ERROR'
  | 'HTTP_CLIENT_ERROR'
  | 'HTTP_UNEXPECTED_STATUS'
  | 'HTTP_RESPONSE_TOO_LARGE'
  | 'HTTP_MALFORMED_RESPONSE'
  | 'HTTP_RPC_INVALID_RESPONSE'
  | 'HTTP_RPC_ID_MISMATCH'
  | 'HTTP_RPC_MISSING_RESPONSE'
  | 'HTTP_RPC_RATE_LIMITED'
  | 'HTTP_RPC_SERVER_ERROR'
  | 'HTTP_RPC_CALLER_ERROR';

/** Every error context names the endpoint by its secret-free label. */
export interface EndpointContext {
  readonly endpoint: string;
}

/** A failure below HTTP (no response, a broken connection): undici's or Node's error code when there is one. */
export interface TransportFailureContext extends EndpointContext {
  readonly causeCode?: string;
}

/** A non-2xx answer. A JSON-RPC error in its body adds `rpcCode`/`rpcMessage`; otherwise its text is `body` (redacted, cut). */
export interface StatusErrorContext extends EndpointContext {
  readonly status: number;
  readonly retryAfterMs?: number;
  readonly rpcCode?: number;
  readonly rpcMessage?: string;
  readonly body?: string;
}

/** A JSON-RPC error object answered by the server. */
export interface RpcErrorContext extends EndpointContext {
  readonly status: number;
  readonly rpcCode: number;
  readonly rpcMessage: string;
  readonly retryAfterMs?: number;
  /** The error's `data` (e.g. Solana preflight logs), when it is plain JSON of reasonable size, redacted. */
  readonly rpcData?: unknown;
}

/** `HTTP_TIMEOUT` comes from the call's own deadline (`timeoutMs`, `phase`), from HTTP 408 (`status`) or from undici (`causeCode`). */
export interface TimeoutContext extends EndpointContext {
  readonly timeoutMs?: number;
  /** `queued`: no free connection; `response`: no headers; `body`: the body was not complete. */
  readonly phase?: 'queued' | 'response' | 'body';
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly causeCode?: string;
}

declare module '@x/errors' {
  interface ErrorContexts {
    HTTP_INVALID_OPTIONS: ConfigErrorContext;
    /** A bad call: `method` when known, `option` for a bad per-call option, `causeCode` when undici refused it. */
    HTTP_INVALID_REQUEST: EndpointContext & { readonly method?: string; readonly option?: string; readonly causeCode?: string };
    HTTP_CLOSED: TransportFailureContext;
    HTTP_NETWORK: TransportFailureContext;
    HTTP_TIMEOUT: TimeoutContext;
    HTTP_RATE_LIMITED: StatusErrorContext;
    HTTP_SERVER_ERROR: StatusErrorContext;
    HTTP_CLIENT_ERROR: StatusErrorContext;
    HTTP_UNEXPECTED_STATUS: StatusErrorContext;
    HTTP_RESPONSE_TOO_LARGE: EndpointContext & { readonly status: number; readonly limitBytes: number; readonly contentLength?: number };
    HTTP_MALFORMED_RESPONSE: EndpointContext & {
      readonly status: number;
      readonly bytes: number;
      readonly contentType?: string;
      readonly body?: string;
    };
    HTTP_RPC_INVALID_RESPONSE: EndpointContext & { readonly status: number };
    HTTP_RPC_ID_MISMATCH: EndpointContext & { readonly expectedId: JsonRpcId; readonly receivedId: string };
    HTTP_RPC_MISSING_RESPONSE: EndpointContext & { readonly expectedId: JsonRpcId; readonly unmatchedResponses: number };
    HTTP_RPC_RATE_LIMITED: RpcErrorContext;
    HTTP_RPC_SERVER_ERROR: RpcErrorContext;
    HTTP_RPC_CALLER_ERROR: RpcErrorContext;
  }
}

/**
 * True when the error says the request itself (or the caller's configuration of the endpoint) is
 * wrong — invalid params, unknown method, HTTP 4xx such as 401/403/404, bad options. Sending the same
 * request to another endpoint would not help, so strategies must not fail over on it. These errors
 * have category `config`; endpoint failures have `network`, `timeout`, `rate-limit`, `server` or
 * `protocol`.
 */
export function isCallerError(error: unknown): error is XError {
  return hasCategory(error, 'config');
}

/** What every error built for one endpoint needs to know. */
export interface ErrorEnvironment {
  /** Secret-free name of the endpoint. */
  readonly label: string;
  /** Secret parts of the endpoint URL, removed from any text that could quote them. */
  readonly secrets: readonly string[];
}

/** An error of this package, its context checked against the shape registered for `code`. */
export function httpError<Code extends HttpTransportErrorCode>(
  code: Code,
  category: ErrorCategory,
  message: string,
  context: ContextOf<Code>,
  cause?: unknown,
): XError {
  return new XError<Code, object>({ code, category, message, context, cause }) as unknown as XError;
}

const MAX_TEXT_CHARS = 200;
// Only the start of a long text is kept, so only its start is scanned. A secret cut in half at the end
// of this window escapes redaction, but cannot reach the 200 characters shown: redacting replaces
// each secret with 3 characters, so the window would have to hold secrets of ~1 000 characters.
const SCAN_WINDOW_CHARS = 64 * 1024;

/**
 * Text from outside (a server's message or body, a library's error message) made fit for an error:
 * secrets removed first — so truncation can never leave half a secret behind — then whitespace
 * collapsed and the length capped.
 */
export function safeText(text: string, secrets: readonly string[]): string {
  const clean = redactSecrets(text.slice(0, SCAN_WINDOW_CHARS), secrets).replace(/\s+/g, ' ').trim();
  return clean.length <= MAX_TEXT_CHARS ? clean : `${clean.slice(0, MAX_TEXT_CHARS)}…`;
}

const MAX_DATA_CHARS = 16 * 1024;

/**
 * A JSON-RPC error's `data` (Solana puts preflight logs there), kept only when it is plain JSON of
 * reasonable size, with secrets removed.
 */
export function safeData(data: unknown, secrets: readonly string[]): unknown {
  if (data === undefined) return undefined;
  try {
    const { text, bigints } = stringifyNotingBigInts(data);
    if (text === undefined || text.length > MAX_DATA_CHARS) return undefined;
    const redacted = redactSecrets(text, secrets);
    // Data read with `bigIntegers: 'bigint'` keeps its exact integers through the round trip.
    return bigints ? parseJsonWithBigIntegers(redacted) : (JSON.parse(redacted) as unknown);
  } catch {
    return undefined;
  }
}

/**
 * A foreign error fit to be kept as `cause`: the original when nothing in it (message, stack, nested
 * causes, properties) quotes a secret, otherwise a copy with the secrets removed and the nested
 * causes dropped.
 */
export function safeCause(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return error;
  return redactCause(error, secrets, error instanceof Error ? `${inspect(error, { depth: 4 })}\n${error.stack ?? ''}` : String(error));
}
