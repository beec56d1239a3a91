import { XError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';

/** Every error code this package produces itself (it also passes on those of its dependencies). */
export const SOLANA_RPC_ERROR_CODES = [
  'SOLANA_INVALID_OPTIONS',
  'SOLANA_INVALID_REQUEST',
  'SOLANA_INVALID_TRANSACTION',
  'SOLANA_STALE_SLOT',
  'SOLANA_SLOT_AHEAD',
  'SOLANA_NOT_YET',
  'SOLANA_INVALID_RESULT',
  'SOLANA_SIGNATURE_MISMATCH',
  'SOLANA_NO_CONSENSUS',
  'SOLANA_SEND_FAILED',
  'SOLANA_CLOSED',
  'SOLANA_STATE_FILE',
] as const;

export type SolanaRpcErrorCode = (typeof SOLANA_RPC_ERROR_CODES)[number];

export function solanaError(
  code: SolanaRpcErrorCode,
  category: ErrorCategory,
  message: string,
  context: Record<string, unknown> = {},
  cause?: unknown,
): XError {
  return new XError({ code, category, message, context, cause });
}

export function invalidOptions(field: string, message: string): XError {
  return solanaError('SOLANA_INVALID_OPTIONS', 'config', `${field}: ${message}`, { field });
}

export function invalidRequest(message: string, context: Record<string, unknown> = {}): XError {
  return solanaError('SOLANA_INVALID_REQUEST', 'config', message, context);
}

/** A short, secret-free description of a value for error messages (never the value itself when large). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
