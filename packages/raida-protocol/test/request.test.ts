import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  buildDetectRequest,
  buildEchoRequest,
  buildPownRequest,
  buildRequest,
  buildVersionRequest,
  challengeFromRandom,
  maxCoinsPerRequest,
  requestBodyLength,
} from '@x/raida-protocol';
import type { Coin, PownCoin } from '@x/raida-protocol';
import { AN, ECHO, R, expectXError, fromHex, scriptedRandom, toHex } from './helpers.js';

const ECHO_REQUEST = fromHex(`
  01 00 03 00 00 00 00 06 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 12 00 00 00 00 00 00 AB CD
  00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65
  3E 3E`);

const TYPE1_ECHO_REQUEST = fromHex(`
  01 00 03 00 00 00 00 06 00 00 00 00 00 00 00 00
  01 01 00 00 12 34 00 12 A1 B2 C3 D4 E5 F6 AB CD
  AA 76 F6 F3 70 7F 74 8B B8 58 1F 24 77 0D FB AA
  3E 3E`);

const KEY_COIN: Coin = { denomination: 1, serialNumber: 0x1234, an: AN };
const NONCE = fromHex('A1 B2 C3 D4 E5 F6');

function coin(i: number): Coin {
  return { denomination: (i % 15) - 8, serialNumber: 1000 + i, an: new Uint8Array(16).fill(i) };
}

describe('reference request vectors', () => {
  it('echo, type 0, to RAIDA 3 with echo bytes AB CD, byte for byte', () => {
    const built = buildEchoRequest({ raidaId: 3, echo: ECHO, random: () => R });
    expect(toHex(built.bytes)).toBe(toHex(ECHO_REQUEST));
    expect(built.bytes).toHaveLength(50);
    expect(toHex(built.expectation.signature)).toBe(toHex(challengeFromRandom(R)));
    expect(built.expectation).toMatchObject({ raidaId: 3, command: 'echo', coinCount: 0, encryption: { type: 0 } });
  });

  it('version is the echo with byte 5 = 01', () => {
    const built = buildVersionRequest({ raidaId: 3, echo: ECHO, random: () => R });
    const expected = ECHO_REQUEST.slice();
    expected[5] = 0x01;
    expect(toHex(built.bytes)).toBe(toHex(expected));
  });

  it('echo, type 1 (AES-128-CTR), byte for byte, with the reply signature challenge XOR key', () => {
    const built = buildEchoRequest({ raidaId: 3, echo: ECHO, nonce: NONCE, random: () => R, encryption: { type: 1, keyCoin: KEY_COIN } });
    expect(toHex(built.bytes)).toBe(toHex(TYPE1_ECHO_REQUEST));
    expect(toHex(built.expectation.signature)).toBe(toHex(fromHex('00 10 20 30 40 50 60 70 80 90 A0 B0 5E AD 27 9A')));
    const encryption = built.expectation.encryption;
    expect(encryption.type).toBe(1);
    if (encryption.type === 1) {
      expect(toHex(encryption.counterBlock)).toBe(toHex(fromHex('A1 B2 C3 D4 E5 F6 AB CD 00 00 00 00 00 00 00 00')));
      expect(encryption.requestBodyLength).toBe(18);
      expect(toHex(encryption.key)).toBe(toHex(AN));
    }
  });

  it('detect, type 0, one coin: body length 39 and the exact body', () => {
    const built = buildDetectRequest({
      raidaId: 3,
      echo: ECHO,
      random: () => R,
      coins: [{ denomination: 0, serialNumber: 0x1234, an: AN }],
    });
    expect(built.bytes).toHaveLength(32 + 39);
    expect(toHex(built.bytes.subarray(22, 24))).toBe('00 27');
    expect(toHex(built.bytes.subarray(4, 6))).toBe('01 0a');
    expect(toHex(built.bytes.subarray(32))).toBe(
      toHex(fromHex('00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65  00 00 00 12 34  00112233445566778899AABBCCDDEEFF  3E 3E')),
    );
    expect(built.expectation.coinCount).toBe(1);
  });
});

describe('request building', () => {
  it('encrypts challenge ‖ payload exactly like Node aes-128-ctr over several blocks, leaving the terminator plain', () => {
    const coins = [coin(1), coin(2), coin(3)];
    const built = buildDetectRequest({
      raidaId: 7,
      echo: ECHO,
      nonce: NONCE,
      random: () => R,
      coins,
      encryption: { type: 1, keyCoin: KEY_COIN },
    });
    const plain = buildDetectRequest({ raidaId: 7, echo: ECHO, nonce: NONCE, random: () => R, coins });
    const iv = Buffer.concat([Buffer.from(built.bytes.subarray(24, 32)), Buffer.alloc(8)]);
    const cipher = createCipheriv('aes-128-ctr', Buffer.from(AN), iv);
    const expected = Buffer.concat([cipher.update(plain.bytes.subarray(32, plain.bytes.length - 2)), cipher.final()]);
    expect(toHex(built.bytes.subarray(32, built.bytes.length - 2))).toBe(toHex(expected));
    expect(toHex(built.bytes.subarray(built.bytes.length - 2))).toBe('3e 3e');
    expect(toHex(built.bytes.subarray(0, 16))).toBe(toHex(plain.bytes.subarray(0, 16)));
    expect(toHex(built.bytes.subarray(16, 22))).toBe('01 01 00 00 12 34');
  });

  it('writes a negative key denomination as int8', () => {
    const built = buildEchoRequest({
      raidaId: 0,
      echo: ECHO,
      nonce: NONCE,
      random: () => R,
      encryption: { type: 1, keyCoin: { ...KEY_COIN, denomination: -8 } },
    });
    expect(built.bytes[17]).toBe(0xf8);
  });

  it('lays out pown coins as den ‖ sn ‖ an ‖ pan with body length 18 + 37n', () => {
    const coins: PownCoin[] = [{ denomination: -3, serialNumber: 1_023_999, an: AN, pan: new Uint8Array(16).fill(0x5a) }];
    const built = buildPownRequest({ raidaId: 24, echo: ECHO, random: () => R, coins });
    expect(built.bytes).toHaveLength(32 + requestBodyLength('pown', 1));
    expect(requestBodyLength('pown', 1)).toBe(55);
    expect(toHex(built.bytes.subarray(4, 6))).toBe('01 14');
    expect(toHex(built.bytes.subarray(48, 53))).toBe('fd 00 0f 9f ff');
    expect(toHex(built.bytes.subarray(53, 69))).toBe(toHex(AN));
    expect(toHex(built.bytes.subarray(69, 85))).toBe(toHex(new Uint8Array(16).fill(0x5a)));
    expect(COMMANDS.pown.idempotent).toBe(false);
  });

  it('defaults: coin id 6, random echo bytes, zero nonce for type 0, random nonce for type 1', () => {
    const type0 = buildEchoRequest({ raidaId: 1, random: scriptedRandom(R, fromHex('12 34')) });
    expect(toHex(type0.bytes.subarray(6, 8))).toBe('00 06');
    expect(toHex(type0.bytes.subarray(24, 32))).toBe('00 00 00 00 00 00 12 34');
    expect(toHex(type0.expectation.echo)).toBe('12 34');

    const type1 = buildEchoRequest({
      raidaId: 1,
      random: scriptedRandom(R, fromHex('12 34'), NONCE),
      encryption: { type: 1, keyCoin: KEY_COIN },
    });
    expect(toHex(type1.bytes.subarray(24, 32))).toBe('a1 b2 c3 d4 e5 f6 12 34');

    const custom = buildEchoRequest({ raidaId: 1, coinId: 0x0102, echo: ECHO, challenge: new Uint8Array(16).fill(0xee) });
    expect(toHex(custom.bytes.subarray(6, 8))).toBe('01 02');
    expect(toHex(custom.bytes.subarray(32, 48))).toBe(toHex(new Uint8Array(16).fill(0xee)));
  });

  it('enforces the 1024-byte limit: 46 detect coins fit, 47 do not; 26 pown coins fit, 27 do not', () => {
    expect(maxCoinsPerRequest('detect')).toBe(46);
    expect(maxCoinsPerRequest('pown')).toBe(26);
    const coins46 = Array.from({ length: 46 }, (_, i) => coin(i));
    expect(buildDetectRequest({ raidaId: 0, coins: coins46 }).bytes.length).toBe(32 + 18 + 46 * 21);
    const error = expectXError(
      () => buildDetectRequest({ raidaId: 0, coins: [...coins46, coin(46)] }),
      'RAIDA_REQUEST_TOO_LARGE',
      'config',
    );
    expect(error.message).toBe('A detect request of 47 coins is 1037 bytes, over the 1024-byte limit; send at most 46 coins per request');
    expect(error.context).toEqual({ command: 'detect', coinCount: 47, length: 1037, maxLength: 1024 });
    const pown = (n: number) => Array.from({ length: n }, (_, i) => ({ ...coin(i), pan: AN }));
    expect(buildPownRequest({ raidaId: 0, coins: pown(26) }).bytes.length).toBe(1012);
    expectXError(() => buildPownRequest({ raidaId: 0, coins: pown(27) }), 'RAIDA_REQUEST_TOO_LARGE', 'config');
  });

  it('takes a configurable maximum', () => {
    expect(maxCoinsPerRequest('detect', 1440)).toBe(66);
    expect(buildDetectRequest({ raidaId: 0, maxLength: 1440, coins: Array.from({ length: 66 }, (_, i) => coin(i)) }).bytes).toHaveLength(
      1436,
    );
    expectXError(
      () => buildDetectRequest({ raidaId: 0, maxLength: 100, coins: [coin(1), coin(2), coin(3)] }),
      'RAIDA_REQUEST_TOO_LARGE',
      'config',
    );
    expectXError(() => buildEchoRequest({ raidaId: 0, maxLength: 49 }), 'RAIDA_INVALID_OPTION', 'config');
    expect(buildEchoRequest({ raidaId: 0, maxLength: 50 }).bytes).toHaveLength(50);
  });

  it('rejects bad options with a config error naming the option', () => {
    const cases: [() => unknown, string, string][] = [
      [() => buildEchoRequest({ raidaId: 256 }), 'RAIDA_INVALID_OPTION', 'raidaId'],
      [() => buildEchoRequest({ raidaId: 1.5 }), 'RAIDA_INVALID_OPTION', 'raidaId'],
      [() => buildEchoRequest({ raidaId: 0, coinId: 70000 }), 'RAIDA_INVALID_OPTION', 'coinId'],
      [() => buildEchoRequest({ raidaId: 0, echo: new Uint8Array(3) }), 'RAIDA_INVALID_OPTION', 'echo'],
      [() => buildEchoRequest({ raidaId: 0, nonce: new Uint8Array(8) }), 'RAIDA_INVALID_OPTION', 'nonce'],
      [() => buildEchoRequest({ raidaId: 0, challenge: new Uint8Array(12) }), 'RAIDA_INVALID_OPTION', 'challenge'],
      [() => buildEchoRequest({ raidaId: 0, encryption: { type: 2 } as never }), 'RAIDA_INVALID_OPTION', 'encryption'],
      [() => buildRequest({ raidaId: 0, command: 'toString' } as never), 'RAIDA_INVALID_OPTION', 'command'],
      [() => buildDetectRequest({ raidaId: 0, coins: [] }), 'RAIDA_INVALID_OPTION', 'coins'],
    ];
    for (const [fn, code, option] of cases) expect(expectXError(fn, code, 'config').context).toEqual({ option });
    const coinError = expectXError(
      () =>
        buildEchoRequest({ raidaId: 0, encryption: { type: 1, keyCoin: { denomination: 1, serialNumber: 1, an: new Uint8Array(15) } } }),
      'RAIDA_INVALID_COIN',
      'config',
    );
    expect(coinError.context).toEqual({ option: 'an' });
  });

  it('validates every coin before building, naming the bad one', () => {
    const error = expectXError(
      () => buildDetectRequest({ raidaId: 0, coins: [coin(0), { denomination: 7, serialNumber: 1, an: AN }] }),
      'RAIDA_INVALID_COIN',
      'config',
    );
    expect(error.message).toBe('Coin 1: denomination must be an integer from -8 to 6');
    expect(error.context).toEqual({ index: 1, option: 'denomination' });
  });

  it('does not keep references to caller buffers', () => {
    const echo = ECHO.slice();
    const built = buildEchoRequest({ raidaId: 3, echo, random: () => R });
    echo.fill(0);
    expect(toHex(built.expectation.echo)).toBe('ab cd');
    expect(toHex(built.bytes.subarray(30, 32))).toBe('ab cd');
  });
});
