import { invalidInput, invalidOption } from './errors.js';

/** A source of `n` random bytes. Inject one for reproducible tests; the default is Web Crypto. */
export type RandomSource = (n: number) => Uint8Array;

/** `globalThis.crypto.getRandomValues`, available in browsers and in Node 20+. */
export const defaultRandom: RandomSource = (n) => {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
};

export interface BufferedRandomOptions {
  /** Where the bytes come from. Default `defaultRandom` (Web Crypto). */
  readonly source?: RandomSource;
  /** Bytes drawn from `source` at a time. Default 4096. */
  readonly bufferBytes?: number;
}

/**
 * A random source that draws from `source` a block at a time and hands out slices of it: one
 * `getRandomValues` call serves many requests (a 25-server round needs 50 draws of 2–12 bytes).
 * Every block is a new buffer that is never written again, so the slices it returned stay valid.
 * Requests larger than a block go to `source` directly.
 */
export function createBufferedRandom(options: BufferedRandomOptions = {}): RandomSource {
  const source = options.source ?? defaultRandom;
  const bufferBytes = options.bufferBytes ?? 4096;
  if (typeof source !== 'function') throw invalidOption('source', 'source must be a function (n) => Uint8Array');
  if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 1) {
    throw invalidOption('bufferBytes', 'bufferBytes must be a positive integer');
  }
  let block: Uint8Array = new Uint8Array(0);
  let offset = 0;
  return (n) => {
    if (n > bufferBytes) return randomBytes(source, n);
    if (block.length - offset < n) {
      block = randomBytes(source, bufferBytes);
      offset = 0;
    }
    offset += n;
    return block.subarray(offset - n, offset);
  };
}

/**
 * Draws `n` bytes and checks the source kept its contract: a wrong length would otherwise become a
 * silently malformed packet. The result is copied so the source may reuse its buffer.
 */
export function randomBytes(random: RandomSource | undefined, n: number): Uint8Array {
  const bytes = (random ?? defaultRandom)(n);
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw invalidInput('RAIDA_INVALID_RANDOM', `The random source must return a Uint8Array of ${n} bytes`, {
      expectedLength: n,
      actualLength: bytes instanceof Uint8Array ? bytes.length : undefined,
    });
  }
  return bytes.slice();
}

/** Draws `n` bytes straight into `target` at `offset`, checking the source's contract like {@link randomBytes}. */
export function drawInto(random: RandomSource | undefined, n: number, target: Uint8Array, offset: number): void {
  const bytes = (random ?? defaultRandom)(n);
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw invalidInput('RAIDA_INVALID_RANDOM', `The random source must return a Uint8Array of ${n} bytes`, {
      expectedLength: n,
      actualLength: bytes instanceof Uint8Array ? bytes.length : undefined,
    });
  }
  for (let i = 0; i < n; i++) target[offset + i] = bytes[i]!;
}
