import { invalidCoin } from './errors.js';

/**
 * Pown string letters and their nibbles in a coin file:
 * `u` untried (0x0), `p` pass (0xA), `b` broken encryption key (0xB), `n` no reply (0xC), `d` dropped (0xD),
 * `e` error status (0xE), `f` fail, counterfeit on that RAIDA (0xF).
 */
export const POWN_LETTERS: readonly string[] = Object.freeze(['u', 'p', 'b', 'n', 'd', 'e', 'f']);
export type PownLetter = 'u' | 'p' | 'b' | 'n' | 'd' | 'e' | 'f';

const NIBBLE_OF: Readonly<Record<string, number>> = { u: 0x0, p: 0xa, b: 0xb, n: 0xc, d: 0xd, e: 0xe, f: 0xf };
const LETTER_OF: Readonly<Record<number, PownLetter>> = { 0xa: 'p', 0xb: 'b', 0xc: 'n', 0xd: 'd', 0xe: 'e', 0xf: 'f' };
/** Length of the pown string in bytes (bytes 16–28 of a one-coin file). */
export const POWN_BYTES = 13;
/** The unused low nibble of the last byte, as the reference client writes it. */
const UNUSED_NIBBLE = 0x9;

/** The 13 bytes of a 25-letter pown string: RAIDA i in byte ⌊i/2⌋, high nibble for even i. */
export function encodePownString(pown: string): Uint8Array {
  if (typeof pown !== 'string' || pown.length !== 25) throw invalidCoin('A pown string has 25 letters, one per RAIDA');
  const out = new Uint8Array(POWN_BYTES);
  for (let i = 0; i < 25; i++) {
    const nibble = NIBBLE_OF[pown[i]!];
    if (nibble === undefined) throw invalidCoin(`Pown letter ${i} is "${pown[i]!}", not one of ${POWN_LETTERS.join(' ')}`, { index: i });
    out[i >> 1] = (out[i >> 1] ?? 0) | (i % 2 === 0 ? nibble << 4 : nibble);
  }
  out[12] = (out[12] ?? 0) | UNUSED_NIBBLE;
  return out;
}

/** The 25 letters of pown bytes; unknown nibbles read as `u`, the last (unused) nibble is ignored. */
export function decodePownString(bytes: Uint8Array): string {
  let pown = '';
  for (let i = 0; i < 25; i++) {
    const byte = bytes[i >> 1] ?? 0;
    const nibble = i % 2 === 0 ? byte >> 4 : byte & 0x0f;
    pown += LETTER_OF[nibble] ?? 'u';
  }
  return pown;
}

/** Where a coin belongs after grading. */
export type CoinGrade = 'bank' | 'fracked' | 'counterfeit' | 'limbo';

/** Passes (`p`) needed for a coin to be authentic: 13 of 25, the servers' own rule for fix. */
export const PASSES_NEEDED = 13;

/** Letters of each kind in a pown string. */
export function countPown(pown: string): Record<PownLetter, number> {
  const counts: Record<PownLetter, number> = { u: 0, p: 0, b: 0, n: 0, d: 0, e: 0, f: 0 };
  for (const letter of pown) if (letter in counts) counts[letter as PownLetter]++;
  return counts;
}

/**
 * The grade of a pown string: at least 13 `p` and no `f` → bank; at least 13 `p` with some `f` → fracked;
 * at least 13 `f` → counterfeit; anything else → limbo (not enough servers answered to tell).
 */
export function gradePown(pown: string): CoinGrade {
  const counts = countPown(pown);
  if (counts.p >= PASSES_NEEDED) return counts.f > 0 ? 'fracked' : 'bank';
  if (counts.f >= PASSES_NEEDED) return 'counterfeit';
  return 'limbo';
}
