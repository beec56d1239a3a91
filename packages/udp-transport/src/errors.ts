import { XError, configError, describeValue } from '@x/errors';
import type { ConfigErrorContext } from '@x/errors';
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

/** Where an item's datagram went, in the context of every error about it. */
export type UdpTargetContext = {
  readonly host: string;
  readonly port: number;
};

/** Context of `UDP_SEND_FAILED`, `UDP_SOCKET_ERROR` and `UDP_RESOLVE_FAILED`: the OS error code, when there is one. */
export type UdpNetworkErrorContext = UdpTargetContext & {
  readonly osCode: string | undefined;
};

/** Context of `UDP_INVALID_REQUEST`: the option at fault and, in a fan-out, the item's index. */
export type UdpInvalidRequestContext = ConfigErrorContext & {
  readonly index?: number;
};

declare module '@x/errors' {
  interface ErrorContexts {
    UDP_INVALID_OPTIONS: ConfigErrorContext;
    UDP_INVALID_REQUEST: UdpInvalidRequestContext;
    UDP_REQUEST_TOO_LARGE: UdpTargetContext & { readonly bytes: number; readonly maxRequestBytes: number; readonly index?: number };
    UDP_CLOSED: Readonly<Record<string, never>>;
    UDP_TIMEOUT: UdpTargetContext & { readonly timeoutMs: number };
    UDP_SEND_FAILED: UdpNetworkErrorContext;
    UDP_SOCKET_ERROR: UdpNetworkErrorContext;
    UDP_RESOLVE_FAILED: UdpNetworkErrorContext;
  }
}

function where(target: UdpTarget): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** A bad `createUdpClient` option. */
export function invalidOptions(
  option: string,
  message: string,
  ...value: [received?: unknown]
): XError<'UDP_INVALID_OPTIONS', ConfigErrorContext> {
  return configError('UDP_INVALID_OPTIONS', option, message, ...value);
}

/** A bad argument of `fanOut` or `request`; `index` is the fan-out item at fault. Nothing was sent. */
export function invalidRequest(
  option: string,
  message: string,
  index: number | undefined,
  ...value: [received?: unknown]
): XError<'UDP_INVALID_REQUEST', UdpInvalidRequestContext> {
  const received = value.length === 0 ? {} : { received: describeValue(value[0]) };
  const context: UdpInvalidRequestContext = index === undefined ? { option, ...received } : { option, ...received, index };
  const text = `Invalid UDP request${index === undefined ? '' : ` (item ${index})`}: ${message}`;
  return new XError({ code: 'UDP_INVALID_REQUEST', category: 'config', message: text, context });
}

export function requestTooLarge(
  target: UdpTarget,
  bytes: number,
  maxRequestBytes: number,
  index?: number,
): XError<'UDP_REQUEST_TOO_LARGE'> {
  const context = { host: target.host, port: target.port, bytes, maxRequestBytes, ...(index === undefined ? {} : { index }) };
  return new XError({
    code: 'UDP_REQUEST_TOO_LARGE',
    category: 'config',
    message: `UDP payload for ${where(target)} is ${bytes} bytes, over the limit of ${maxRequestBytes}; nothing was sent`,
    context,
  });
}

export function closedError(): XError<'UDP_CLOSED'> {
  return new XError({ code: 'UDP_CLOSED', category: 'aborted', message: 'The UDP client is closed', context: {} });
}

export function timeoutError(target: UdpTarget, timeoutMs: number): XError<'UDP_TIMEOUT'> {
  return new XError({
    code: 'UDP_TIMEOUT',
    category: 'timeout',
    message: `No reply from ${where(target)} within ${timeoutMs} ms`,
    context: { host: target.host, port: target.port, timeoutMs },
  });
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

function networkError<Code extends 'UDP_SEND_FAILED' | 'UDP_SOCKET_ERROR' | 'UDP_RESOLVE_FAILED'>(
  code: Code,
  message: string,
  target: UdpTarget,
  cause: unknown,
): XError<Code, UdpNetworkErrorContext> {
  const osCode = (cause as { code?: unknown } | null)?.code;
  const context: UdpNetworkErrorContext = { host: target.host, port: target.port, osCode: typeof osCode === 'string' ? osCode : undefined };
  return new XError({ code, category: 'network', message: `${message}: ${describe(cause)}`, context, cause });
}

export function sendFailed(target: UdpTarget, cause: unknown): XError<'UDP_SEND_FAILED', UdpNetworkErrorContext> {
  return networkError('UDP_SEND_FAILED', `Sending to ${where(target)} failed`, target, cause);
}

export function socketError(target: UdpTarget, cause: unknown): XError<'UDP_SOCKET_ERROR', UdpNetworkErrorContext> {
  return networkError('UDP_SOCKET_ERROR', `The socket waiting for ${where(target)} failed`, target, cause);
}

export function resolveFailed(target: UdpTarget, cause: unknown): XError<'UDP_RESOLVE_FAILED', UdpNetworkErrorContext> {
  return networkError('UDP_RESOLVE_FAILED', `Could not resolve ${target.host}`, target, cause);
}
