import { describe, expect, it } from 'vitest';
import {
  assertCoin,
  assertPownCoin,
  bitfieldLength,
  decodeDetectCoins,
  decodePownCoins,
  decodeVerdictBitfield,
  denominationValue,
  encodeDetectCoins,
  encodePownCoins,
  encodeVerdictBitfield,
} from '@x/raida-protocol';
import type { Coin } from '@x/raida-protocol';
import { AN, expectXError, toHex } from './helpers.js';

describe('coin validation', () => {
  it('accepts the full denomination and serial-number ranges', () => {
    for (const denomination of [-8, 0, 6]) expect(() => assertCoin({ denomination, serialNumber: 0, an: AN })).not.toThrow();
    expect(() => assertCoin({ denomination: 0, serialNumber: 0xffffffff, an: AN })).not.toThrow();
  });

  it.each([
    [{ denomination: -9, serialNumber: 1, an: AN }, 'denomination'],
    [{ denomination: 7, serialNumber: 1, an: AN }, 'denomination'],
    [{ denomination: 0.5, serialNumber: 1, an: AN }, 'denomination'],
    [{ denomination: 0, serialNumber: -1, an: AN }, 'serialNumber'],
    [{ denomination: 0, serialNumber: 2 ** 32, an: AN }, 'serialNumber'],
    [{ denomination: 0, serialNumber: Number.NaN, an: AN }, 'serialNumber'],
    [{ denomination: 0, serialNumber: 1, an: new Uint8Array(15) }, 'an'],
    [{ denomination: 0, serialNumber: 1, an: Array.from(AN) as unknown as Uint8Array }, 'an'],
  ])('rejects %o with a config error naming %s', (coin, field) => {
    const error = expectXError(() => assertCoin(coin, 4), 'RAIDA_INVALID_COIN', 'config');
    expect(error.context).toEqual({ index: 4, option: field });
    expect(error.message.startsWith('Coin 4: ')).toBe(true);
  });

  it('never puts the AN in a message or context', () => {
    const error = expectXError(
      () => assertPownCoin({ denomination: 0, serialNumber: 1, an: AN, pan: new Uint8Array(3) }),
      'RAIDA_INVALID_COIN',
      'config',
    );
    expect(error.context).toEqual({ option: 'pan' });
    expect(JSON.stringify(error)).not.toMatch(/0,17,34|00112233/);
    expectXError(() => assertCoin(null as unknown as Coin), 'RAIDA_INVALID_COIN', 'config');
  });

  it('values a denomination as 10^den', () => {
    expect(denominationValue(0)).toBe(1);
    expect(denominationValue(6)).toBe(1_000_000);
    expect(denominationValue(-2)).toBeCloseTo(0.01);
  });
});

describe('coin records', () => {
  const coins: Coin[] = [
    { denomination: -1, serialNumber: 0x01020304, an: AN },
    { denomination: 2, serialNumber: 7, an: new Uint8Array(16).fill(9) },
  ];

  it('encodes detect records as den (int8) ‖ sn (u32 BE) ‖ an and decodes them back', () => {
    const bytes = encodeDetectCoins(coins);
    expect(bytes).toHaveLength(42);
    expect(toHex(bytes.subarray(0, 5))).toBe('ff 01 02 03 04');
    expect(toHex(bytes.subarray(21, 26))).toBe('02 00 00 00 07');
    expect(decodeDetectCoins(bytes)).toEqual(coins);
  });

  it('encodes pown records with the PAN last and decodes them back', () => {
    const pown = coins.map((coin) => ({ ...coin, pan: new Uint8Array(16).fill(0xaa) }));
    const bytes = encodePownCoins(pown);
    expect(bytes).toHaveLength(74);
    expect(toHex(bytes.subarray(21, 37))).toBe(toHex(new Uint8Array(16).fill(0xaa)));
    expect(decodePownCoins(bytes)).toEqual(pown);
  });

  it('rejects partial records', () => {
    expectXError(() => decodeDetectCoins(new Uint8Array(22)), 'RAIDA_REQUEST_MALFORMED', 'protocol');
    expectXError(() => decodePownCoins(new Uint8Array(36)), 'RAIDA_REQUEST_MALFORMED', 'protocol');
  });
});

describe('verdict bitfields (least-significant bit first)', () => {
  it.each([
    [[true, false], '01'],
    [[false, true], '02'],
    [[true, false, true], '05'],
    [[false, false, false, false, false, false, false, false, true], '00 01'],
    [[true, true, true, true, true, true, true, true], 'ff'],
    [[], ''],
  ])('%o ⇄ %s', (verdicts, hex) => {
    expect(toHex(encodeVerdictBitfield(verdicts))).toBe(hex);
    const bytes = encodeVerdictBitfield(verdicts);
    expect(decodeVerdictBitfield(bytes, verdicts.length)).toEqual(verdicts);
  });

  it('needs exactly ⌈n/8⌉ bytes', () => {
    expect(bitfieldLength(9)).toBe(2);
    expect(bitfieldLength(8)).toBe(1);
    const error = expectXError(() => decodeVerdictBitfield(new Uint8Array(1), 9), 'RAIDA_REPLY_BAD_BODY', 'protocol');
    expect(error.context).toEqual({ coinCount: 9, bodyLength: 1 });
    expectXError(() => decodeVerdictBitfield(new Uint8Array(2), 3), 'RAIDA_REPLY_BAD_BODY', 'protocol');
  });
});
