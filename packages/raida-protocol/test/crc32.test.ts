import { describe, expect, it } from 'vitest';
import { crc32 } from '@x/raida-protocol';
import { R } from './helpers.js';

const ascii = (text: string) => new TextEncoder().encode(text);

describe('crc32', () => {
  it('matches every CRC-32 value in the reference', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(R)).toBe(0x9270c965);
    expect(crc32(new Uint8Array(12))).toBe(0x7bd5c66f);
    expect(crc32(new Uint8Array(12).fill(0xff))).toBe(0xbb99ff8a);
    expect(crc32(new Uint8Array(12).fill(0xee))).toBe(0x1811ca6a);
    expect(crc32(ascii('Hello World!'))).toBe(0x1c291ca3);
  });

  it('returns an unsigned 32-bit number, 0 for no input', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('123456789'))).toBeGreaterThan(0x7fffffff);
  });

  it('reads only the view it is given, not the rest of the buffer', () => {
    const buffer = new Uint8Array(20).fill(0xee);
    buffer.set(R, 4);
    expect(crc32(buffer.subarray(4, 16))).toBe(0x9270c965);
  });
});
