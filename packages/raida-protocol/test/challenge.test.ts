import { describe, expect, it } from 'vitest';
import { CHALLENGE_LENGTH, challengeFromRandom, createChallenge, crc32, defaultRandom, isValidChallenge } from '@x/raida-protocol';
import { R, expectXError, fromHex, toHex } from './helpers.js';

describe('challenges', () => {
  it('is R followed by CRC32(R) big-endian, from the injected random source', () => {
    const asked: number[] = [];
    const challenge = createChallenge({
      random: (n) => {
        asked.push(n);
        return R;
      },
    });
    expect(asked).toEqual([12]);
    expect(toHex(challenge)).toBe(toHex(fromHex('00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65')));
    expect(toHex(challengeFromRandom(new Uint8Array(12).fill(0xee)))).toBe(
      toHex(fromHex('EE EE EE EE EE EE EE EE EE EE EE EE 18 11 CA 6A')),
    );
  });

  it('copies the random bytes, so a source may reuse its buffer', () => {
    const shared = R.slice();
    const challenge = createChallenge({ random: () => shared });
    shared.fill(0);
    expect(challenge.subarray(0, 12)).toEqual(R);
  });

  it('uses Web Crypto by default and yields valid, distinct challenges', () => {
    const a = createChallenge();
    const b = createChallenge();
    expect(a).toHaveLength(CHALLENGE_LENGTH);
    expect(isValidChallenge(a)).toBe(true);
    expect(isValidChallenge(b)).toBe(true);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(defaultRandom(5)).toHaveLength(5);
  });

  it('validates the CRC the way a server does (status 37 otherwise)', () => {
    const good = challengeFromRandom(R);
    expect(isValidChallenge(good)).toBe(true);
    const bad = good.slice();
    bad[15] = 0x64;
    expect(isValidChallenge(bad)).toBe(false);
    expect(isValidChallenge(new Uint8Array(16).fill(0xee))).toBe(false);
    expect(isValidChallenge(good.subarray(0, 15))).toBe(false);
    expect(crc32(good.subarray(0, 12))).toBe(0x9270c965);
  });

  it('rejects a random source that breaks its contract with a config error', () => {
    const error = expectXError(() => createChallenge({ random: () => new Uint8Array(11) }), 'RAIDA_INVALID_RANDOM', 'config');
    expect(error.context).toEqual({ expectedLength: 12, actualLength: 11 });
    expectXError(() => createChallenge({ random: () => [1, 2] as unknown as Uint8Array }), 'RAIDA_INVALID_RANDOM', 'config');
    expectXError(() => challengeFromRandom(new Uint8Array(13)), 'RAIDA_INVALID_OPTION', 'config');
  });
});
