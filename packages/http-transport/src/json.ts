import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import type { DuplicateKeyInfo } from 'lossless-json';

/**
 * How integers beyond ±(2^53 − 1) in response bodies are read. `'round'`: as `JSON.parse` does, to
 * the nearest double (u64::MAX becomes 18446744073709551616). `'bigint'`: exactly, as a `bigint`.
 */
export type BigIntegerMode = 'round' | 'bigint';

export const BIG_INTEGER_MODES: readonly BigIntegerMode[] = Object.freeze(['round', 'bigint']);

/** A JSON body parser; throws a `SyntaxError` on text that is not JSON. */
export type JsonParser = (text: string) => unknown;

// The smallest integer that is not safe, 2^53, has 16 digits: a body without a run of 16 digits
// holds none, and JSON.parse (native, several times faster) reads it exactly.
const LONG_DIGIT_RUN = /\d{16}/;

function parseNumberExactly(token: string): number | bigint {
  const value = Number(token);
  // Only integer literals become bigints: a literal with a fraction or an exponent is a float in
  // JSON's own terms and is read as JSON.parse reads it.
  if (Number.isSafeInteger(value) || !/^-?\d+$/.test(token)) return value;
  return BigInt(token);
}

// JSON.parse keeps the last of duplicate keys; lossless-json would throw.
const keepLast = ({ newValue }: DuplicateKeyInfo): unknown => newValue;

/** `JSON.parse`, except that integer literals that are not safe integers become exact `bigint`s. */
export function parseJsonWithBigIntegers(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  return losslessParse(text, null, { parseNumber: parseNumberExactly, onDuplicateKey: keepLast });
}

export function jsonParserFor(mode: BigIntegerMode): JsonParser {
  return mode === 'bigint' ? parseJsonWithBigIntegers : (text) => JSON.parse(text) as unknown;
}

/** JSON text with bigints written as JSON integers, and whether there were any. */
export function stringifyNotingBigInts(value: unknown): { readonly text: string | undefined; readonly bigints: boolean } {
  let bigints = false;
  // JSON.stringify runs first even when bigints are present: it detects cycles, which would send
  // lossless-json's stringify into unbounded recursion.
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'bigint') return item;
    bigints = true;
    return 0;
  });
  return bigints ? { text: losslessStringify(value), bigints } : { text, bigints };
}

/**
 * `JSON.stringify`, except that a `bigint` is written as a JSON integer with all its digits.
 * Throws what JSON.stringify throws for anything else it refuses (a cycle).
 */
export function stringifyJson(value: unknown): string | undefined {
  return stringifyNotingBigInts(value).text;
}
