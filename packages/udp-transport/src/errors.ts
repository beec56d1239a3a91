import { XError } from '@x/errors';
import type { ErrorCategory, ErrorContext } from '@x/errors';
import type { UdpTarget } from './types.js';

/** Every `code` this package's errors carry (besides `ABORTED` from `@x/errors`). Stable: safe to switch on. */
export type UdpTransportErrorCode =
  | 'UDP_INVALID_OPTIONS'
  | 'UDP_INVALID_REQUEST'
  | 'UDP_REQUEST_TOO_LARGE'
  | 'UDP_CLOSED'
  | 'UDP_TIMEOUT'
  | 'UDP_SEND_FAILED'
  | 'UDP_SOCKET_ERROR'
  | 'UDP_RESOLVE_FAILED';

function udpError(code: UdpTransportErrorCode, category: ErrorCategory, message: string, context: ErrorContext, cause?: unknown): XError {
  return new XError({ code, category, message, context, cause });
}

function where(target: UdpTarget): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

export function invalidOptions(detail: string): XError {
  return udpError('UDP_INVALID_OPTIONS', 'config', `Invalid UDP client options: ${detail}`, { detail });
}

export function invalidRequest(detail: string, index?: number): XError {
  const context = index === undefined ? { detail } : { detail, index };
  return udpError('UDP_INVALID_REQUEST', 'config', `Invalid UDP request${index === undefined ? '' : ` (item ${index})`}: ${detail}`, context);
}

export function requestTooLarge(target: UdpTarget, bytes: number, maxRequestBytes: number, index?: number): XError {
  const context = { host: target.host, port: target.port, bytes, maxRequestBytes, ...(index === undefined ? {} : { index }) };
  return udpError(
    'UDP_REQUEST_TOO_LARGE',
    'config',
    `UDP payload for ${where(target)} is ${bytes} bytes, over the limit of ${maxRequestBytes}; nothing was sent`,
    context,
  );
}

export function closedError(): XError {
  return udpError('UDP_CLOSED', 'aborted', 'The UDP client is closed', {});
}

export function timeoutError(target: UdpTarget, timeoutMs: number): XError {
  return udpError('UDP_TIMEOUT', 'timeout', `No reply from ${where(target)} within ${timeoutMs} ms`, {
    host: target.host,
    port: target.port,
    timeoutMs,
  });
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

function osCode(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function sendFailed(target: UdpTarget, cause: unknown): XError {
  return udpError('UDP_SEND_FAILED', 'network', `Sending to ${where(target)} failed: ${describe(cause)}`, {
    host: target.host,
    port: target.port,
    osCode: osCode(cause),
  }, cause);
}

export function socketError(target: UdpTarget, cause: unknown): XError {
  return udpError('UDP_SOCKET_ERROR', 'network', `The socket waiting for ${where(target)} failed: ${describe(cause)}`, {
    host: target.host,
    port: target.port,
    osCode: osCode(cause),
  }, cause);
}

export function resolveFailed(target: UdpTarget, cause: unknown): XError {
  return udpError('UDP_RESOLVE_FAILED', 'network', `Could not resolve ${target.host}: ${describe(cause)}`, {
    host: target.host,
    port: target.port,
    osCode: osCode(cause),
  }, cause);
}
