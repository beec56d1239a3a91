import { XError, configError } from '@x/errors';
import type { ConfigErrorContext } from '@x/errors';
import { statusInfo } from '@x/raida-protocol';
import type { RaidaInvalidCoinContext } from '@x/raida-protocol';

/** Codes this package creates (besides those of `@x/raida-protocol`, `@x/udp-transport` and `ABORTED`). */
export type RaidaClientErrorCode =
  | 'RAIDA_CLIENT_INVALID_OPTIONS'
  | 'RAIDA_CLIENT_CLOSED'
  | 'RAIDA_INVALID_COIN'
  | 'RAIDA_SERVER_ERROR'
  | 'RAIDA_EARLY_FINISH'
  | 'RAIDA_DEADLINE'
  | 'RAIDA_REPLY_INVALID';

/** Context of `RAIDA_SERVER_ERROR`: the server and the status byte it answered. */
export type RaidaServerErrorContext = {
  readonly raidaId: number;
  readonly status: number;
  readonly statusName: string;
};

// RAIDA_INVALID_COIN is registered by @x/raida-protocol, whose coin checks make it too.
declare module '@x/errors' {
  interface ErrorContexts {
    RAIDA_CLIENT_INVALID_OPTIONS: ConfigErrorContext;
    RAIDA_CLIENT_CLOSED: Readonly<Record<string, never>>;
    RAIDA_SERVER_ERROR: RaidaServerErrorContext;
    RAIDA_EARLY_FINISH: Readonly<Record<string, never>>;
    RAIDA_DEADLINE: { readonly deadlineMs: number };
    /** A reply that failed validation in a way the protocol package did not name (its own codes keep theirs). */
    RAIDA_REPLY_INVALID: { readonly raidaId: number };
  }
}

/** A bad option of the client, a call or a helper; `option` names it, `value` (when given) is described safely. */
export function invalidOptions(
  option: string,
  message: string,
  ...value: [received?: unknown]
): XError<'RAIDA_CLIENT_INVALID_OPTIONS', ConfigErrorContext> {
  return configError('RAIDA_CLIENT_INVALID_OPTIONS', option, message, ...value);
}

export function invalidCoin(message: string, context: RaidaInvalidCoinContext): XError<'RAIDA_INVALID_COIN', RaidaInvalidCoinContext> {
  return new XError({ code: 'RAIDA_INVALID_COIN', category: 'config', message, context });
}

export function clientClosed(): XError<'RAIDA_CLIENT_CLOSED'> {
  return new XError({ code: 'RAIDA_CLIENT_CLOSED', category: 'aborted', message: 'The RAIDA client is closed', context: {} });
}

/** A valid reply whose status says the server could not do what was asked. */
export function serverStatusError(raidaId: number, code: number): XError<'RAIDA_SERVER_ERROR', RaidaServerErrorContext> {
  const info = statusInfo(code);
  return new XError({
    code: 'RAIDA_SERVER_ERROR',
    category: 'server',
    message: `RAIDA ${raidaId} answered status ${code} (${info.name}): ${info.description}`,
    context: { raidaId, status: code, statusName: info.name },
  });
}

/** The reason early finish aborts the requests still out; it marks their servers `skipped`. */
export function earlyFinishReason(): XError<'RAIDA_EARLY_FINISH'> {
  return new XError({
    code: 'RAIDA_EARLY_FINISH',
    category: 'aborted',
    message: 'Not awaited: every coin’s verdict was already settled',
    context: {},
  });
}

/** The reason the call's `deadlineMs` aborts the requests still out; their servers are reported as `timeout`. */
export function deadlineReason(deadlineMs: number): XError<'RAIDA_DEADLINE'> {
  return new XError({
    code: 'RAIDA_DEADLINE',
    category: 'timeout',
    message: `No reply within the call's deadline of ${deadlineMs} ms`,
    context: { deadlineMs },
  });
}
