import { expect } from 'vitest';
import { isXError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';

/** Bytes from hex text; whitespace is ignored, so the reference's dumps paste in as they are. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${text}`);
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16));
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

/** R = 00 01 … 0B, the reference's random part. */
export const R = Uint8Array.from({ length: 12 }, (_, i) => i);
/** AN 00112233445566778899AABBCCDDEEFF from the reference. */
export const AN = fromHex('00112233445566778899AABBCCDDEEFF');
export const ECHO = fromHex('AB CD');

/** A random source that replays the given chunks in order and fails the test if asked for more. */
export function scriptedRandom(...chunks: Uint8Array[]): (n: number) => Uint8Array {
  const queue = [...chunks];
  return (n) => {
    const next = queue.shift();
    if (next === undefined) throw new Error(`unexpected request for ${n} random bytes`);
    return next;
  };
}

/** Runs `fn` and returns the XError it throws, checking code and category. */
export function expectXError(fn: () => unknown, code: string, category: ErrorCategory): Error & { context: Record<string, unknown> } {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isXError(thrown), `expected an XError ${code}, got ${String(thrown)}`).toBe(true);
  const error = thrown as Error & { code: string; category: string; context: Record<string, unknown> };
  expect(error.code).toBe(code);
  expect(error.category).toBe(category);
  return error;
}
