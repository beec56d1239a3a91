import fc from 'fast-check';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import {
  ONE_COIN_FILE_LENGTH,
  ONE_COIN_FILE_WITH_PANS_LENGTH,
  coinFileName,
  decodeCoinFile,
  decodePownString,
  encodeCoinFile,
  encodePownString,
  formatUnits,
  gradePown,
  readCoinFile,
  writeCoinFile,
} from '@x/raida-wallet';
import type { WalletCoin } from '@x/raida-wallet';

// shared/raida-wallet.md §1.8: the complete one-coin example, den 1, SN 1, AN of RAIDA i = 16 × byte i, pown "p"×25.
const NOTE_EXAMPLE = `
0000  09 01 00 06 00 00 00 01 00 00 00 00 00 00 00 00
0010  AA AA AA AA AA AA AA AA AA AA AA AA A9 99 99 99
0020  00 00 01 00 00 00 01 00 00 00 00 00 00 00 00 00
0030  00 00 00 00 00 00 00 01 01 01 01 01 01 01 01 01
0040  01 01 01 01 01 01 01 02 02 02 02 02 02 02 02 02
0050  02 02 02 02 02 02 02 03 03 03 03 03 03 03 03 03
0060  03 03 03 03 03 03 03 04 04 04 04 04 04 04 04 04
0070  04 04 04 04 04 04 04 05 05 05 05 05 05 05 05 05
0080  05 05 05 05 05 05 05 06 06 06 06 06 06 06 06 06
0090  06 06 06 06 06 06 06 07 07 07 07 07 07 07 07 07
00a0  07 07 07 07 07 07 07 08 08 08 08 08 08 08 08 08
00b0  08 08 08 08 08 08 08 09 09 09 09 09 09 09 09 09
00c0  09 09 09 09 09 09 09 0A 0A 0A 0A 0A 0A 0A 0A 0A
00d0  0A 0A 0A 0A 0A 0A 0A 0B 0B 0B 0B 0B 0B 0B 0B 0B
00e0  0B 0B 0B 0B 0B 0B 0B 0C 0C 0C 0C 0C 0C 0C 0C 0C
00f0  0C 0C 0C 0C 0C 0C 0C 0D 0D 0D 0D 0D 0D 0D 0D 0D
0100  0D 0D 0D 0D 0D 0D 0D 0E 0E 0E 0E 0E 0E 0E 0E 0E
0110  0E 0E 0E 0E 0E 0E 0E 0F 0F 0F 0F 0F 0F 0F 0F 0F
0120  0F 0F 0F 0F 0F 0F 0F 10 10 10 10 10 10 10 10 10
0130  10 10 10 10 10 10 10 11 11 11 11 11 11 11 11 11
0140  11 11 11 11 11 11 11 12 12 12 12 12 12 12 12 12
0150  12 12 12 12 12 12 12 13 13 13 13 13 13 13 13 13
0160  13 13 13 13 13 13 13 14 14 14 14 14 14 14 14 14
0170  14 14 14 14 14 14 14 15 15 15 15 15 15 15 15 15
0180  15 15 15 15 15 15 15 16 16 16 16 16 16 16 16 16
0190  16 16 16 16 16 16 16 17 17 17 17 17 17 17 17 17
01a0  17 17 17 17 17 17 17 18 18 18 18 18 18 18 18 18
01b0  18 18 18 18 18 18 18`;

function fromDump(dump: string): Uint8Array {
  const bytes = dump
    .trim()
    .split('\n')
    .flatMap((line) => line.trim().split(/\s+/).slice(1))
    .map((hex) => Number.parseInt(hex, 16));
  return Uint8Array.from(bytes);
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(
    text
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((byte) => Number.parseInt(byte, 16)),
  );
}

const exampleCoin: WalletCoin = {
  denomination: 1,
  serialNumber: 1,
  ans: Array.from({ length: 25 }, (_, i) => new Uint8Array(16).fill(i)),
  pown: 'p'.repeat(25),
};

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isXError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an error');
}

describe('format 9 coin file', () => {
  it('writes the note’s one-coin example byte for byte (439 bytes) and reads it back', () => {
    const expected = fromDump(NOTE_EXAMPLE);
    expect(expected.length).toBe(439);
    const bytes = encodeCoinFile([exampleCoin]);
    expect(bytes.length).toBe(ONE_COIN_FILE_LENGTH);
    expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
    const [coin] = decodeCoinFile(expected, 'example.bin');
    expect(coin).toEqual(exampleCoin);
  });

  it('reads byte 0 = 0x39 (ASCII "9") as format 9 and ignores the unused pown nibble and task id', () => {
    const bytes = fromDump(NOTE_EXAMPLE);
    bytes[0] = 0x39;
    bytes[0x1c] = 0xa0;
    bytes.fill(0, 0x1d, 0x20);
    expect(decodeCoinFile(bytes, 'a.bin')[0]).toEqual(exampleCoin);
    expect(encodeCoinFile(decodeCoinFile(bytes, 'a.bin'))[0]).toBe(0x09);
  });

  it('a limbo coin keeps its PANs: state byte 1 and 839 bytes, PAN of RAIDA i at 439 + 16·i', () => {
    const pans = Array.from({ length: 25 }, (_, i) => new Uint8Array(16).fill(0x80 + i));
    const bytes = encodeCoinFile([{ ...exampleCoin, pans, pown: 'n'.repeat(25) }]);
    expect(bytes.length).toBe(ONE_COIN_FILE_WITH_PANS_LENGTH);
    expect(bytes[15]).toBe(1);
    expect(bytes[439 + 16 * 24]).toBe(0x80 + 24);
    expect(decodeCoinFile(bytes, 'l.bin')[0]!.pans).toEqual(pans);
  });

  it('many coins: records of 407 bytes after the motto, 807 with PANs; den and SN come from the bytes', () => {
    const coins = [-8, 0, 6].map((denomination, i) => ({
      ...exampleCoin,
      denomination,
      serialNumber: 1_023_999 - i,
      pown: 'u'.repeat(25),
    }));
    const bytes = encodeCoinFile(coins);
    expect(bytes.length).toBe(32 + 3 * 407);
    expect(new TextDecoder().decode(bytes.subarray(16, 32))).toBe('Live Free or Die');
    expect(bytes[32 + 407 + 2]).toBe(0x00);
    expect(bytes[32 + 2]).toBe(0xf8);
    expect(decodeCoinFile(bytes, 'three.bin')).toEqual(coins);
    const withPans = encodeCoinFile(coins.map((coin) => ({ ...coin, pans: coin.ans })));
    expect(withPans.length).toBe(32 + 3 * 807);
  });

  it('pown strings encode as the note’s three checked examples', () => {
    expect(encodePownString('p'.repeat(25))).toEqual(hex('AA AA AA AA AA AA AA AA AA AA AA AA A9'));
    expect(encodePownString(`${'p'.repeat(19)}fffffp`)).toEqual(hex('AA AA AA AA AA AA AA AA AA AF FF FF A9'));
    expect(encodePownString('ppuppppfpppeppppppnppbpep')).toEqual(hex('AA 0A AA AF AA AE AA AA AA CA AB AE A9'));
    expect(decodePownString(hex('AA 0A AA AF AA AE AA AA AA CA AB AE A9'))).toBe('ppuppppfpppeppppppnppbpep');
  });

  it('grades by 13 passes: bank, fracked, counterfeit, limbo', () => {
    expect(gradePown(`${'p'.repeat(13)}${'n'.repeat(12)}`)).toBe('bank');
    expect(gradePown(`${'p'.repeat(23)}ff`)).toBe('fracked');
    expect(gradePown(`${'f'.repeat(13)}${'p'.repeat(12)}`)).toBe('counterfeit');
    expect(gradePown(`${'p'.repeat(12)}${'n'.repeat(13)}`)).toBe('limbo');
  });

  it('bad files get an error naming the file and never quoting an AN', () => {
    const good = encodeCoinFile([{ ...exampleCoin, ans: exampleCoin.ans.map(() => new Uint8Array(16).fill(0xab)) }]);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['short.bin', good.slice(0, 20), /short\.bin: truncated: 20 bytes/],
      ['cut.bin', good.slice(0, 400), /cut\.bin: truncated: 400 bytes, but a count of 1 coin of 407 bytes needs 439/],
      ['id.bin', Uint8Array.from(good, (b, i) => (i === 3 ? 7 : b)), /id\.bin: coin id 7 is not CloudCoin/],
      ['enc.bin', Uint8Array.from(good, (b, i) => (i === 5 ? 1 : b)), /enc\.bin: encrypted \(encryption type 1\)/],
      ['count.bin', Uint8Array.from(good, (b, i) => (i === 7 ? 2 : b)), /count\.bin: truncated: 439 bytes, but a count of 2 coins/],
      ['long.bin', Uint8Array.from([...good, 0]), /long\.bin: longer than its header says/],
      ['fmt.bin', Uint8Array.from(good, (b, i) => (i === 0 ? 8 : b)), /fmt\.bin: not a format 9 coin file/],
      ['den.bin', Uint8Array.from(good, (b, i) => (i === 34 ? 0x20 : b)), /den\.bin: coin 0: denomination byte 0x20/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const { code, message } = codeOf(() => decodeCoinFile(bytes, name));
      expect(code).toBe('WALLET_BAD_COIN_FILE');
      expect(message).toMatch(pattern);
      expect(message.toLowerCase()).not.toMatch(/abab|ab ab/);
    }
  });

  it('names files by the convention', () => {
    expect(coinFileName([{ denomination: 3, serialNumber: 7998 }], 'From Ron')).toBe("1,000 CloudCoin #7998 'From Ron'.bin");
    expect(coinFileName([{ denomination: -3, serialNumber: 89269 }])).toBe("0.001 CloudCoin #89269 ''.bin");
    expect(coinFileName([{ denomination: 11, serialNumber: 499 }], 'x')).toBe("Key CloudCoin #499 'x'.bin");
    expect(formatUnits(1n)).toBe('0.0000-0001');
    expect(formatUnits(1_244_100_000_340n)).toBe('12,441.0000-034');
    expect(
      coinFileName([
        { denomination: 1, serialNumber: 1 },
        { denomination: 0, serialNumber: 2 },
      ]),
    ).toBe("11 CloudCoin #2 ''.bin");
    expect(() => coinFileName([{ denomination: 1, serialNumber: 1 }], "it's")).toThrow(/tag/);
  });
});

describe('coin files on disk', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('writes atomically: no temporary file is left, exclusive writes never replace a coin, reads name the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'coin-file-'));
    const path = join(dir, coinFileName([exampleCoin]));
    await writeCoinFile(path, [exampleCoin]);
    expect(await readdir(dir)).toEqual(["10 CloudCoin #1 ''.bin"]);
    expect(new Uint8Array(await readFile(path))).toEqual(fromDump(NOTE_EXAMPLE));
    await expect(writeCoinFile(path, [{ ...exampleCoin, pown: 'f'.repeat(25) }], { exclusive: true })).rejects.toMatchObject({
      code: 'WALLET_IO',
      context: { systemCode: 'EEXIST' },
    });
    expect((await readCoinFile(path))[0]!.pown).toBe('p'.repeat(25));
    expect(await readdir(dir)).toHaveLength(1);
    await writeFile(join(dir, 'bad.bin'), new Uint8Array(10));
    await expect(readCoinFile(join(dir, 'bad.bin'))).rejects.toThrow(/bad\.bin: truncated/);
  });
});

describe('coin files under fuzzing', () => {
  const SEED = Number(process.env.FC_SEED ?? 0x5eed);
  const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);

  it('any bytes decode to coins that encode back to the same file, or fail with WALLET_BAD_COIN_FILE naming the file', () => {
    const good = encodeCoinFile([exampleCoin]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 900 }),
          // Mutations of a valid file reach deeper than random bytes.
          fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(good.length)).map(([at, value, cut]) => {
            const bytes = good.slice(0, Math.max(cut, 32));
            if (at < bytes.length) bytes[at] = value;
            return bytes;
          }),
        ),
        (bytes) => {
          let coins;
          try {
            coins = decodeCoinFile(bytes, 'fuzz.bin');
          } catch (error) {
            expect(isXError(error) && error.code === 'WALLET_BAD_COIN_FILE').toBe(true);
            expect((error as Error).message.startsWith('fuzz.bin: ')).toBe(true);
            return;
          }
          // What was read is what a wallet writes back: byte 0 normalised to 09, pown nibble and task id rewritten.
          const again = decodeCoinFile(encodeCoinFile(coins), 'again.bin');
          expect(again).toEqual(coins);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
