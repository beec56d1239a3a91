import { XError } from '@x/errors';
import type { ErrorContext } from '@x/errors';
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

export function configError(code: RaidaProtocolErrorCode, message: string, context: ErrorContext = {}): XError {
  return new XError({ code, category: 'config', message, context });
}

/** Context of `RAIDA_INVALID_COIN`: the coin's position in the call, the option at fault, the RAIDA whose AN is bad. */
export type RaidaInvalidCoinContext = {
  readonly option?: string;
  readonly index?: number;
  readonly raidaId?: number;
};

/** Context of `RAIDA_INVALID_OPTION`: the one key `option` of every `@x` configuration error. */
export type RaidaInvalidOptionContext = { readonly option: string };

declare module '@x/errors' {
  interface ErrorContexts {
    RAIDA_INVALID_COIN: RaidaInvalidCoinContext;
    RAIDA_INVALID_OPTION: RaidaInvalidOptionContext;
    RAIDA_INVALID_SERVER_LIST: ServerListErrorContext;
  }
}
