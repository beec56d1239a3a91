import { XError } from '@x/errors';
import type { ErrorCategory, ErrorContext } from '@x/errors';

/** Every error code this package creates (see README). */
export type RaidaWalletErrorCode =
  | 'WALLET_BAD_COIN_FILE'
  | 'WALLET_INVALID_COIN'
  | 'WALLET_INVALID_OPTIONS'
  | 'WALLET_IO'
  | 'WALLET_NOT_A_WALLET'
  | 'WALLET_COIN_NOT_FOUND'
  | 'WALLET_BUSY';

// Messages and contexts name files, sizes, positions and serial numbers: never an AN, a PAN or a PG.
export function walletError(code: RaidaWalletErrorCode, category: ErrorCategory, message: string, context: ErrorContext = {}): XError {
  return new XError({ code, category, message, context });
}

/** A coin file that cannot be read as format 9. The message names the file and says what is wrong with it. */
export function badCoinFile(file: string, message: string, context: ErrorContext = {}): XError {
  return walletError('WALLET_BAD_COIN_FILE', 'config', `${file}: ${message}`, { file, ...context });
}

export function invalidCoin(message: string, context: ErrorContext = {}): XError {
  return walletError('WALLET_INVALID_COIN', 'config', message, context);
}

export function invalidOptions(message: string, context: ErrorContext = {}): XError {
  return walletError('WALLET_INVALID_OPTIONS', 'config', message, context);
}

/** A file-system failure, with the path and the system error code (never the file's contents). */
export function ioError(operation: string, path: string, cause: unknown): XError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new XError({
    code: 'WALLET_IO',
    category: 'config',
    message: `Cannot ${operation} ${path} (${typeof code === 'string' ? code : String(cause)})`,
    context: { path, operation, ...(typeof code === 'string' ? { systemCode: code } : {}) },
    cause,
  });
}
