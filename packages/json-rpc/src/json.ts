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

// Bodies with long digit runs (a Solana account's rentEpoch is u64::MAX: nearly every answer) are read
// by JSON.parse too: every integer literal of 16+ digits outside a string becomes a marker string first,
// and the markers become bigints after. A JSON string token is matched whole, so digits inside strings
// are never touched; a digit run that is part of a fraction or an exponent is left alone.
const TOKENS = /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;
// What a marker looks like in JSON text and once parsed. JSON text that already holds the escape
// `\u0000` takes the exact (slower) path, so a marker can never be confused with the body's own data.
const MARK = '\u0000';
const MARK_ESCAPE = '\\u0000';
const EXACT_INTEGER = /^-?[1-9]\d*$/;

function parseNumberExactly(token: string): number | bigint {
  const value = Number(token);
  // Only integer literals become bigints: a literal with a fraction or an exponent is a float in
  // JSON's own terms and is read as JSON.parse reads it.
  if (Number.isSafeInteger(value) || !/^-?\d+$/.test(token)) return value;
  return BigInt(token);
}

// JSON.parse keeps the last of duplicate keys; lossless-json would throw.
const keepLast = ({ newValue }: DuplicateKeyInfo): unknown => newValue;

function syntaxError(): SyntaxError {
  return new SyntaxError('Unexpected number as an object key in JSON');
}

/** Turns markers back into bigints, in place; a marker as an object key was a number there: not JSON. */
function revive(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith(MARK) ? BigInt(value.slice(1)) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) value[index] = revive(value[index]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key.startsWith(MARK)) throw syntaxError();
    record[key] = revive(record[key]);
  }
  return record;
}

/** `JSON.parse`, except that integer literals that are not safe integers become exact `bigint`s. */
export function parseJsonWithBigIntegers(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  if (text.includes(MARK_ESCAPE)) return losslessParse(text, null, { parseNumber: parseNumberExactly, onDuplicateKey: keepLast });
  let marked = 0;
  const rewritten = text.replace(TOKENS, (token) => {
    if (token.startsWith('"') || !EXACT_INTEGER.test(token) || Number.isSafeInteger(Number(token))) return token;
    marked += 1;
    return `"${MARK_ESCAPE}${token}"`;
  });
  const value: unknown = JSON.parse(rewritten);
  return marked === 0 ? value : revive(value);
}

export function jsonParserFor(mode: BigIntegerMode): JsonParser {
  return mode === 'bigint' ? parseJsonWithBigIntegers : (text) => JSON.parse(text) as unknown;
}

// A bigint is written as a marker string, which the text then loses its quotes for. A string value that
// looks like a marker sends the value to lossless-json's stringify instead (never a wrong digit).
const WRITTEN_MARK = /"\\u0000(-?\d+)"(?!:)/g;

/** JSON text with bigints written as JSON integers, and whether there were any. */
export function stringifyNotingBigInts(value: unknown): { readonly text: string | undefined; readonly bigints: boolean } {
  let bigints = false;
  let lookalike = false;
  // JSON.stringify runs first even when bigints are present: it detects cycles, which would send
  // lossless-json's stringify into unbounded recursion.
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') {
      bigints = true;
      return `${MARK}${item.toString()}`;
    }
    if (typeof item === 'string' && item.includes(MARK)) lookalike = true;
    return item;
  });
  if (!bigints || text === undefined) return { text, bigints };
  if (lookalike) return { text: losslessStringify(value), bigints };
  return { text: text.replace(WRITTEN_MARK, '$1'), bigints };
}

/**
 * `JSON.stringify`, except that a `bigint` is written as a JSON integer with all its digits.
 * Throws what JSON.stringify throws for anything else it refuses (a cycle).
 */
export function stringifyJson(value: unknown): string | undefined {
  return stringifyNotingBigInts(value).text;
}
