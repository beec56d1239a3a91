import { base58, base64 } from '@scure/base';
import { describe, solanaError } from './errors.js';

export type TransactionEncoding = 'base64' | 'base58';

function invalidTransaction(message: string): never {
  throw solanaError('SOLANA_INVALID_TRANSACTION', 'config', message, {});
}

/** Decodes a wire transaction given as text; refuses what no node could parse. */
export function decodeTransaction(text: unknown, encoding: unknown): Uint8Array {
  if (typeof text !== 'string' || text === '') invalidTransaction(`the transaction must be a non-empty string, got ${describe(text)}`);
  if (encoding !== 'base64' && encoding !== 'base58')
    invalidTransaction(`unsupported transaction encoding ${describe(encoding)}: use 'base64' or 'base58'`);
  try {
    return encoding === 'base64' ? base64.decode(text) : base58.decode(text);
  } catch {
    return invalidTransaction(`the transaction is not valid ${encoding}`);
  }
}

export function encodeTransaction(bytes: Uint8Array, encoding: TransactionEncoding): string {
  return encoding === 'base64' ? base64.encode(bytes) : base58.encode(bytes);
}

/**
 * The transaction's first signature, base58: what a node answers to `sendTransaction`, known before
 * sending, so that a node answering anything else is caught lying. Wire format: a compact-u16
 * signature count, the 64-byte signatures, then the message.
 */
export function firstSignatureOf(bytes: Uint8Array): string {
  let count = 0;
  let offset = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[offset];
    if (byte === undefined || offset >= 3) invalidTransaction('the transaction does not start with a valid signature count');
    count |= (byte & 0x7f) << shift;
    offset += 1;
    if ((byte & 0x80) === 0) break;
  }
  if (count < 1) invalidTransaction('the transaction has no signature');
  const messageStart = offset + 64 * count;
  if (bytes.length <= messageStart) invalidTransaction(`the transaction is too short for its ${count} signature(s) and a message`);
  return base58.encode(bytes.subarray(offset, offset + 64));
}
