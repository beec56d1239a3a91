import { configError } from './errors.js';

/** A source of `n` random bytes. Inject one for reproducible tests; the default is Web Crypto. */
export type RandomSource = (n: number) => Uint8Array;

/** `globalThis.crypto.getRandomValues`, available in browsers and in Node 20+. */
export const defaultRandom: RandomSource = (n) => {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
};

/**
 * Draws `n` bytes and checks the source kept its contract: a wrong length would otherwise become a
 * silently malformed packet. The result is copied so the source may reuse its buffer.
 */
export function randomBytes(random: RandomSource | undefined, n: number): Uint8Array {
  const bytes = (random ?? defaultRandom)(n);
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw configError('RAIDA_INVALID_RANDOM', `The random source must return a Uint8Array of ${n} bytes`, {
      expectedLength: n,
      actualLength: bytes instanceof Uint8Array ? bytes.length : undefined,
    });
  }
  return bytes.slice();
}
