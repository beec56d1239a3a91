import { ctr } from '@noble/ciphers/aes';
import { invalidOption } from './errors.js';

/** AES-128 key length: the 16-byte AN of the key coin. */
export const KEY_LENGTH = 16;
/** Header bytes 24–31 (nonce ‖ echo bytes) form the first half of the counter block. */
const COUNTER_NONCE_LENGTH = 8;
const BLOCK_LENGTH = 16;

/** How a server numbers the counter blocks of an encrypted reply body. */
export type ReplyCounterConvention = 'continue' | 'restart';

function requireKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw invalidOption('key', `An encryption key must be ${KEY_LENGTH} bytes`);
  }
}

/** The initial counter block: header bytes 24–31 followed by eight zero bytes. */
export function counterBlockFromNonce(nonce8: Uint8Array): Uint8Array {
  if (!(nonce8 instanceof Uint8Array) || nonce8.length !== COUNTER_NONCE_LENGTH) {
    throw invalidOption('nonce', `The counter nonce must be ${COUNTER_NONCE_LENGTH} bytes (header bytes 24–31)`);
  }
  const block = new Uint8Array(BLOCK_LENGTH);
  block.set(nonce8, 0);
  return block;
}

/** `block + blocks` as a 128-bit big-endian integer, wrapping like Node's `aes-128-ctr`. */
export function advanceCounter(block: Uint8Array, blocks: number): Uint8Array {
  if (!Number.isSafeInteger(blocks) || blocks < 0) {
    throw invalidOption('blocks', 'A counter advances by a non-negative whole number of blocks');
  }
  const out = block.slice();
  let carry = blocks;
  for (let i = out.length - 1; i >= 0 && carry > 0; i--) {
    const sum = (out[i] ?? 0) + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum > 0xff ? 1 : 0);
  }
  return out;
}

/** AES-128-CTR with a full 128-bit big-endian counter. Encryption and decryption are the same operation. */
export function aes128Ctr(key: Uint8Array, counterBlock: Uint8Array, data: Uint8Array): Uint8Array {
  requireKey(key);
  if (!(counterBlock instanceof Uint8Array) || counterBlock.length !== BLOCK_LENGTH) {
    throw invalidOption('counterBlock', `A counter block must be ${BLOCK_LENGTH} bytes`);
  }
  if (data.length === 0) return new Uint8Array(0);
  return ctr(key, counterBlock).encrypt(data);
}

/** Number of counter blocks a request used for `challenge ‖ payload` (`bodyLength − 2` bytes). */
export function requestBlockCount(bodyLength: number): number {
  return Math.ceil(Math.max(0, bodyLength - 2) / BLOCK_LENGTH);
}

/**
 * Counter block an encrypted reply body starts at. Current servers `continue` after the request's
 * blocks; others `restart` at the request's own first block.
 */
export function replyCounterBlock(
  requestCounterBlock: Uint8Array,
  requestBodyLength: number,
  convention: ReplyCounterConvention,
): Uint8Array {
  return convention === 'continue'
    ? advanceCounter(requestCounterBlock, requestBlockCount(requestBodyLength))
    : requestCounterBlock.slice();
}

/** Byte-wise XOR over the shorter length; a type-1 reply's signature is `xorBytes(challenge, key)`. */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.min(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}
