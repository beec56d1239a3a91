import { inspect } from 'node:util';
import { XError, redactCause, redactSecrets } from '@x/errors';
import type { ErrorCategory } from '@x/errors';

/** Every `code` this package's errors carry (besides `ABORTED` from `@x/errors`). Stable: safe to switch on. */
export type WsTransportErrorCode =
  | 'WS_INVALID_OPTIONS'
  | 'WS_INVALID_REQUEST'
  | 'WS_CLOSED'
  | 'WS_CONNECT_FAILED'
  | 'WS_CONNECT_TIMEOUT'
  | 'WS_HANDSHAKE_REJECTED'
  | 'WS_DISCONNECTED'
  | 'WS_PONG_TIMEOUT'
  | 'WS_TIMEOUT'
  | 'WS_SEND_BUFFER_FULL'
  | 'WS_MESSAGE_TOO_LARGE'
  | 'WS_MALFORMED_MESSAGE'
  | 'WS_RPC_ERROR'
  | 'WS_RPC_CALLER_ERROR'
  | 'WS_RECONNECT_GAVE_UP';

/** Facts every error of one endpoint carries: its secret-free label. */
interface EndpointContext {
  /** The endpoint's secret-free label (`redactUrl` of its URL unless a `label` was given). */
  readonly endpoint: string;
}

declare module '@x/errors' {
  interface ErrorContexts {
    WS_CLOSED: EndpointContext;
    WS_CONNECT_FAILED: EndpointContext & { readonly reason: string };
    WS_CONNECT_TIMEOUT: EndpointContext & { readonly connectTimeoutMs: number };
    WS_HANDSHAKE_REJECTED: EndpointContext & { readonly status: number };
    /** `code`/`reason`: the WebSocket close code and reason (1006 when the connection dropped without a close frame). */
    WS_DISCONNECTED: EndpointContext & { readonly code: number; readonly reason: string };
    WS_PONG_TIMEOUT: EndpointContext & { readonly pongTimeoutMs: number };
    WS_TIMEOUT: EndpointContext & { readonly method: string; readonly timeoutMs: number };
    WS_SEND_BUFFER_FULL: EndpointContext & { readonly bufferedBytes: number; readonly maxBufferedBytes: number };
    WS_MESSAGE_TOO_LARGE: EndpointContext & { readonly maxPayload: number };
    WS_MALFORMED_MESSAGE: EndpointContext & { readonly reason: string };
    WS_RPC_ERROR: EndpointContext & { readonly method: string; readonly rpcCode: number; readonly rpcMessage: string };
    WS_RPC_CALLER_ERROR: EndpointContext & { readonly method: string; readonly rpcCode: number; readonly rpcMessage: string };
    WS_RECONNECT_GAVE_UP: EndpointContext & { readonly attempts: number };
  }
}

/** What every error built for one endpoint needs to know. */
export interface ErrorEnvironment {
  /** Secret-free name of the endpoint. */
  readonly label: string;
  /** Secret parts of the endpoint URL, removed from any text that could quote them. */
  readonly secrets: readonly string[];
}

export function wsError(
  code: WsTransportErrorCode,
  category: ErrorCategory,
  message: string,
  context: Readonly<Record<string, unknown>>,
  cause?: unknown,
): XError {
  return new XError({ code, category, message, context, cause });
}

const MAX_TEXT_CHARS = 200;

/** Text from outside (a close reason, a server's error message, a library's message): secrets removed, then capped. */
export function safeText(text: string, secrets: readonly string[]): string {
  const clean = redactSecrets(text.slice(0, 64 * 1024), secrets)
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length <= MAX_TEXT_CHARS ? clean : `${clean.slice(0, MAX_TEXT_CHARS)}…`;
}

/** A foreign error fit to be kept as `cause`: the original unless something in it quotes a secret (see `redactCause`). */
export function safeCause(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return error;
  return redactCause(error, secrets, error instanceof Error ? `${inspect(error, { depth: 4 })}\n${error.stack ?? ''}` : String(error));
}
