import { readU32, writeU32 } from './bytes.js';
import { crc32 } from './crc32.js';
import { invalidOption } from './errors.js';
import { randomBytes } from './random.js';
import type { RandomSource } from './random.js';

/** Length of a challenge: 12 random bytes followed by their CRC-32. */
export const CHALLENGE_LENGTH = 16;
/** Length of the random part of a challenge. */
export const CHALLENGE_RANDOM_LENGTH = 12;

/** `random ‖ CRC32(random)` (big-endian) for a given 12-byte random part. */
export function challengeFromRandom(random: Uint8Array): Uint8Array {
  if (!(random instanceof Uint8Array) || random.length !== CHALLENGE_RANDOM_LENGTH) {
    throw invalidOption('random', `A challenge is built from exactly ${CHALLENGE_RANDOM_LENGTH} random bytes`);
  }
  const challenge = new Uint8Array(CHALLENGE_LENGTH);
  challenge.set(random, 0);
  writeU32(challenge, CHALLENGE_RANDOM_LENGTH, crc32(random));
  return challenge;
}

/** A fresh challenge from `options.random` (default: Web Crypto). */
export function createChallenge(options: { readonly random?: RandomSource } = {}): Uint8Array {
  return challengeFromRandom(randomBytes(options.random, CHALLENGE_RANDOM_LENGTH));
}

/** True when `challenge` is 16 bytes whose last 4 are the CRC-32 of the first 12 (what servers check; else status 37). */
export function isValidChallenge(challenge: Uint8Array): boolean {
  if (challenge.length !== CHALLENGE_LENGTH) return false;
  return readU32(challenge, CHALLENGE_RANDOM_LENGTH) === crc32(challenge.subarray(0, CHALLENGE_RANDOM_LENGTH));
}
