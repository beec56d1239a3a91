import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aes128Ctr, advanceCounter, counterBlockFromNonce, replyCounterBlock, requestBlockCount, xorBytes } from '@x/raida-protocol';
import { AN, expectXError, fromHex, toHex } from './helpers.js';

function nodeCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

describe('AES-128-CTR', () => {
  it('matches Node aes-128-ctr, including a 128-bit counter carry and wrap-around', () => {
    const data = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff);
    for (const iv of [
      fromHex('A1 B2 C3 D4 E5 F6 AB CD 00 00 00 00 00 00 00 00'),
      fromHex('00 00 00 00 00 00 00 00 FF FF FF FF FF FF FF FE'),
      new Uint8Array(16).fill(0xff),
    ]) {
      expect(toHex(aes128Ctr(AN, iv, data))).toBe(toHex(nodeCtr(AN, iv, data)));
    }
  });

  it('is its own inverse and leaves its inputs untouched', () => {
    const iv = counterBlockFromNonce(fromHex('01 02 03 04 05 06 07 08'));
    const data = new TextEncoder().encode('challenge and payload');
    const sealed = aes128Ctr(AN, iv, data);
    expect(new TextDecoder().decode(aes128Ctr(AN, iv, sealed))).toBe('challenge and payload');
    expect(toHex(iv)).toBe('01 02 03 04 05 06 07 08 00 00 00 00 00 00 00 00');
    expect(aes128Ctr(AN, iv, new Uint8Array(0))).toHaveLength(0);
  });

  it('rejects keys and counter blocks of the wrong size', () => {
    expectXError(() => aes128Ctr(new Uint8Array(15), new Uint8Array(16), new Uint8Array(1)), 'RAIDA_INVALID_OPTION', 'config');
    expectXError(() => aes128Ctr(AN, new Uint8Array(8), new Uint8Array(1)), 'RAIDA_INVALID_OPTION', 'config');
    expectXError(() => counterBlockFromNonce(new Uint8Array(6)), 'RAIDA_INVALID_OPTION', 'config');
  });
});

describe('counters', () => {
  it('advances a 128-bit big-endian counter with carries and wrap-around', () => {
    expect(toHex(advanceCounter(fromHex('00000000000000000000000000000000'), 1))).toBe(toHex(fromHex('00000000000000000000000000000001')));
    expect(toHex(advanceCounter(fromHex('000000000000000000000000000000FF'), 1))).toBe(toHex(fromHex('00000000000000000000000000000100')));
    expect(toHex(advanceCounter(fromHex('0000000000000000FFFFFFFFFFFFFFFF'), 2))).toBe(toHex(fromHex('00000000000000010000000000000001')));
    expect(toHex(advanceCounter(new Uint8Array(16).fill(0xff), 1))).toBe(toHex(new Uint8Array(16)));
    expect(toHex(advanceCounter(new Uint8Array(16), 0x1_0000_0001))).toBe(toHex(fromHex('00000000000000000000000100000001')));
    expectXError(() => advanceCounter(new Uint8Array(16), -1), 'RAIDA_INVALID_OPTION', 'config');
  });

  it('starts a continued reply after ⌈(bodyLength − 2)/16⌉ request blocks', () => {
    expect(requestBlockCount(18)).toBe(1);
    expect(requestBlockCount(39)).toBe(3);
    expect(requestBlockCount(0)).toBe(0);
    const start = counterBlockFromNonce(fromHex('A1 B2 C3 D4 E5 F6 AB CD'));
    expect(toHex(replyCounterBlock(start, 39, 'continue'))).toBe('a1 b2 c3 d4 e5 f6 ab cd 00 00 00 00 00 00 00 03');
    expect(toHex(replyCounterBlock(start, 39, 'restart'))).toBe(toHex(start));
  });

  it('xors byte-wise: challenge XOR key is the type-1 signature', () => {
    const challenge = fromHex('00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65');
    expect(toHex(xorBytes(challenge, AN))).toBe(toHex(fromHex('00 10 20 30 40 50 60 70 80 90 A0 B0 5E AD 27 9A')));
  });
});
