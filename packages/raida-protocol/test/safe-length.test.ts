import { describe, expect, it } from 'vitest';
import { isCrashSafeType1BodyLength, requestBodyLength } from '@x/raida-protocol';

describe('isCrashSafeType1BodyLength', () => {
  it('matches the body lengths observed to crash and to survive a RAIDAX server on an AES-NI host', () => {
    for (const crashed of [19, 22, 24, 39]) expect(isCrashSafeType1BodyLength(crashed)).toBe(false);
    for (const survived of [18, 25, 26, 30, 33, 34, 41, 42, 49, 50, 57]) expect(isCrashSafeType1BodyLength(survived)).toBe(true);
  });

  it('marks detect and pown of n ≡ 1, 4, 7, 10, 13, 14 (mod 16) coins unsafe, as the reference derives', () => {
    const unsafe = new Set([1, 4, 7, 10, 13, 14]);
    for (let n = 1; n <= 64; n += 1) {
      expect(isCrashSafeType1BodyLength(requestBodyLength('detect', n))).toBe(!unsafe.has(n % 16));
      expect(isCrashSafeType1BodyLength(requestBodyLength('pown', n))).toBe(!unsafe.has(n % 16));
    }
  });

  it('refuses lengths that are not a possible body', () => {
    for (const bad of [-1, 0, 1, 2.5, Number.NaN]) expect(isCrashSafeType1BodyLength(bad)).toBe(false);
  });
});
