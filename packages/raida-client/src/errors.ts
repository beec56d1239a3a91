import { XError } from '@x/errors';
import type { ErrorContext } from '@x/errors';
import { statusInfo } from '@x/raida-protocol';

/** Codes this package creates (besides those of `@x/raida-protocol`, `@x/udp-transport` and `ABORTED`). */
export type RaidaClientErrorCode =
  | 'RAIDA_CLIENT_INVALID_OPTIONS'
  | 'RAIDA_CLIENT_CLOSED'
  | 'RAIDA_INVALID_COIN'
  | 'RAIDA_SERVER_ERROR'
  | 'RAIDA_EARLY_FINISH'
  | 'RAIDA_REPLY_INVALID';

export function invalidOptions(message: string, context: ErrorContext = {}): XError {
  return new XError({ code: 'RAIDA_CLIENT_INVALID_OPTIONS', category: 'config', message, context });
}

export function invalidCoin(message: string, context: ErrorContext): XError {
  return new XError({ code: 'RAIDA_INVALID_COIN', category: 'config', message, context });
}

export function clientClosed(): XError {
  return new XError({ code: 'RAIDA_CLIENT_CLOSED', category: 'aborted', message: 'The RAIDA client is closed', context: {} });
}

/** A valid reply whose status says the server could not do what was asked. */
export function serverStatusError(raidaId: number, code: number): XError {
  const info = statusInfo(code);
  return new XError({
    code: 'RAIDA_SERVER_ERROR',
    category: 'server',
    message: `RAIDA ${raidaId} answered status ${code} (${info.name}): ${info.description}`,
    context: { raidaId, status: code, statusName: info.name },
  });
}

/** The reason early finish aborts the requests still out; it marks their servers `skipped`. */
export function earlyFinishReason(): XError {
  return new XError({
    code: 'RAIDA_EARLY_FINISH',
    category: 'aborted',
    message: 'Not awaited: every coin’s verdict was already settled',
    context: {},
  });
}
