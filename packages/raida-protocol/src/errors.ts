import { XError, configError } from '@x/errors';
import type { ConfigErrorContext, ErrorContext } from '@x/errors';
import type { ServerListErrorContext } from './servers.js';

/** Every error code this package produces (see README). */
export type RaidaProtocolErrorCode =
  | 'RAIDA_REPLY_TOO_SHORT'
  | 'RAIDA_REPLY_LENGTH_MISMATCH'
  | 'RAIDA_REPLY_BAD_TERMINATOR'
  | 'RAIDA_REPLY_SIGNATURE_MISMATCH'
  | 'RAIDA_REPLY_ECHO_MISMATCH'
  | 'RAIDA_REPLY_COUNTER_AMBIGUOUS'
  | 'RAIDA_REPLY_UNEXPECTED_STATUS'
  | 'RAIDA_REPLY_BAD_BODY'
  | 'RAIDA_REQUEST_MALFORMED'
  | 'RAIDA_REQUEST_TOO_LARGE'
  | 'RAIDA_INVALID_COIN'
  | 'RAIDA_INVALID_OPTION'
  | 'RAIDA_INVALID_RANDOM'
  | 'RAIDA_INVALID_SERVER_LIST';

// Contexts carry lengths, positions and status codes only: never an AN, a key, a challenge or a
// signature, because for encryption type 1 the signature is `challenge XOR key` and would leak the key.
export function protocolError(code: RaidaProtocolErrorCode, message: string, context: ErrorContext = {}): XError {
  return new XError({ code, category: 'protocol', message, context });
}

/** A caller's bad input (category `config`) whose context says more than the option: a coin's index, a size, a line. */
export function invalidInput(code: RaidaProtocolErrorCode, message: string, context: ErrorContext = {}): XError {
  return new XError({ code, category: 'config', message, context });
}

/** A bad option or argument: `configError` of `@x/errors`, `context.option` naming it. */
export function invalidOption(option: string, message: string): XError<'RAIDA_INVALID_OPTION', ConfigErrorContext> {
  return configError('RAIDA_INVALID_OPTION', option, message);
}

/** Context of `RAIDA_INVALID_COIN`: the coin's position in the call, the option at fault, the RAIDA whose AN is bad. */
export type RaidaInvalidCoinContext = {
  readonly option?: string;
  readonly index?: number;
  readonly raidaId?: number;
};

/** Context of `RAIDA_INVALID_OPTION`: the one key `option` of every `@x` configuration error. */
export type RaidaInvalidOptionContext = ConfigErrorContext;

/**
 * Context of the `RAIDA_REPLY_*` codes: which server and command the reply was for (absent from `parseReply` alone),
 * the status byte, and the sizes that disagreed. Never a byte of the reply itself.
 */
export type RaidaReplyErrorContext = {
  readonly raidaId?: number;
  readonly command?: string;
  readonly status?: number;
  readonly length?: number;
  readonly bodySize?: number;
  readonly bodyLength?: number;
  readonly coinCount?: number;
};

declare module '@x/errors' {
  interface ErrorContexts {
    RAIDA_REPLY_TOO_SHORT: RaidaReplyErrorContext;
    RAIDA_REPLY_LENGTH_MISMATCH: RaidaReplyErrorContext;
    RAIDA_REPLY_BAD_TERMINATOR: RaidaReplyErrorContext;
    RAIDA_REPLY_SIGNATURE_MISMATCH: RaidaReplyErrorContext;
    RAIDA_REPLY_ECHO_MISMATCH: RaidaReplyErrorContext;
    RAIDA_REPLY_COUNTER_AMBIGUOUS: RaidaReplyErrorContext;
    RAIDA_REPLY_UNEXPECTED_STATUS: RaidaReplyErrorContext;
    RAIDA_REPLY_BAD_BODY: RaidaReplyErrorContext;
    RAIDA_REQUEST_MALFORMED: { readonly length?: number; readonly payloadLength?: number };
    RAIDA_REQUEST_TOO_LARGE: { readonly command: string; readonly coinCount: number; readonly length: number; readonly maxLength: number };
    RAIDA_INVALID_RANDOM: { readonly expectedLength: number; readonly actualLength: number | undefined };
    RAIDA_INVALID_COIN: RaidaInvalidCoinContext;
    RAIDA_INVALID_OPTION: RaidaInvalidOptionContext;
    RAIDA_INVALID_SERVER_LIST: ServerListErrorContext;
  }
}
