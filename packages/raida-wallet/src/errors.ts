import { XError, configError } from '@x/errors';
import type { ConfigErrorContext, ErrorCategory, ErrorContext } from '@x/errors';

/** Every error code this package creates (see README). */
export type RaidaWalletErrorCode =
  | 'WALLET_BAD_COIN_FILE'
  | 'WALLET_INVALID_COIN'
  | 'WALLET_INVALID_OPTIONS'
  | 'WALLET_IO'
  | 'WALLET_NOT_A_WALLET'
  | 'WALLET_COIN_NOT_FOUND'
  | 'WALLET_BUSY';

/** Context of `WALLET_INVALID_COIN`: the coin's position, the option at fault (`ans`, `pans`), the RAIDA, a count. */
export type WalletInvalidCoinContext = {
  readonly index?: number;
  readonly option?: string;
  readonly raidaId?: number;
  readonly count?: number;
};

declare module '@x/errors' {
  interface ErrorContexts {
    /** `file` for a coin file (`path` for a fix journal), plus what was found: byte `length`, `expected` length, coin `count`, `format`, `coinId`, `encryption`, coin `index`. */
    WALLET_BAD_COIN_FILE: {
      readonly file?: string;
      readonly path?: string;
      readonly length?: number;
      readonly expected?: number;
      readonly count?: number;
      readonly format?: number;
      readonly coinId?: number;
      readonly encryption?: number;
      readonly index?: number;
    };
    WALLET_INVALID_COIN: WalletInvalidCoinContext;
    WALLET_INVALID_OPTIONS: ConfigErrorContext;
    WALLET_IO: { readonly path: string; readonly operation: string; readonly systemCode?: string };
    WALLET_NOT_A_WALLET: { readonly dir: string; readonly missing: string };
    WALLET_COIN_NOT_FOUND: { readonly serialNumber: number };
    WALLET_BUSY: { readonly dir: string; readonly pid?: number };
  }
}

// Messages and contexts name files, sizes, positions and serial numbers: never an AN, a PAN or a PG.
export function walletError(code: RaidaWalletErrorCode, category: ErrorCategory, message: string, context: ErrorContext = {}): XError {
  return new XError({ code, category, message, context });
}

/** A coin file that cannot be read as format 9. The message names the file and says what is wrong with it. */
export function badCoinFile(file: string, message: string, context: ErrorContext = {}): XError {
  return walletError('WALLET_BAD_COIN_FILE', 'config', `${file}: ${message}`, { file, ...context });
}

export function invalidCoin(message: string, context: WalletInvalidCoinContext = {}): XError {
  return walletError('WALLET_INVALID_COIN', 'config', message, context);
}

/** A bad option: `configError` of `@x/errors`, `context.option` naming it. */
export function invalidOptions(
  option: string,
  message: string,
  ...value: [received?: unknown]
): XError<'WALLET_INVALID_OPTIONS', ConfigErrorContext> {
  return configError('WALLET_INVALID_OPTIONS', option, message, ...value);
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
