import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonWithBigIntegers, stringifyJson } from '@x/json-rpc';

/** JSON values whose integers may be far beyond 2^53, as bigints. */
const exactJson = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc
      .bigInt({ min: -(2n ** 70n), max: 2n ** 70n })
      .map((n) => (n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n)),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
}));

describe('parseJsonWithBigIntegers and stringifyJson', () => {
  it('round-trip any JSON value exactly: unsafe integers as bigints, everything else as JSON.parse gives it', () => {
    fc.assert(
      fc.property(exactJson.value, (value) => {
        const text = stringifyJson(value);
        expect(text).toBeDefined();
        expect(parseJsonWithBigIntegers(text!)).toEqual(value);
        expect(stringifyJson(parseJsonWithBigIntegers(text!))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('agree with JSON.parse and JSON.stringify on every value without a bigint', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(stringifyJson(value)).toBe(text);
        const exact = parseJsonWithBigIntegers(text);
        const rounded: unknown = JSON.parse(text);
        // Only integer literals beyond 2^53 may differ, and then only by being exact.
        expect(JSON.stringify(exact, (_key, item: unknown) => (typeof item === 'bigint' ? Number(item) : item))).toBe(
          JSON.stringify(rounded),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('leave digits inside strings, fractions and exponents alone, and keep NUL characters in strings as they are', () => {
    const text =
      '{"s":"12345678901234567890","q":"a\\"18446744073709551615\\"b","f":1.12345678901234567,"e":1e-12345678901234567,' +
      '"g":12345678901234567e2,"n":-18446744073709551615,"z":"\\u000018446744073709551615","big":18446744073709551615}';
    expect(parseJsonWithBigIntegers(text)).toEqual({
      s: '12345678901234567890',
      q: 'a"18446744073709551615"b',
      f: Number('1.12345678901234567'),
      e: 0,
      g: Number('12345678901234567e2'),
      n: -18446744073709551615n,
      z: '\u000018446744073709551615',
      big: 18446744073709551615n,
    });
    const value = { nul: '\u00001234', quoted: 'x"\u000012"', key: { '\u000099': 1 }, big: 18446744073709551615n };
    const written = stringifyJson(value);
    expect(written).toBe('{"nul":"\\u00001234","quoted":"x\\"\\u000012\\"","key":{"\\u000099":1},"big":18446744073709551615}');
    expect(parseJsonWithBigIntegers(written!)).toEqual(value);
  });

  it('throw a SyntaxError for text JSON.parse refuses', () => {
    for (const text of [
      '',
      '{',
      `[18446744073709551615`,
      `{"a":18446744073709551615,}`,
      '01',
      `1844674407370955161 5`,
      '{18446744073709551615:1}',
      '"x 12345678901234567',
      '[012345678901234567]',
    ]) {
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
      expect(() => parseJsonWithBigIntegers(text)).toThrow(SyntaxError);
    }
  });
});
