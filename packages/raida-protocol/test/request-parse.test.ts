import { describe, expect, it } from 'vitest';
import { buildDetectRequest, buildEchoRequest, buildPownRequest, checkRequest, parseRequestHeader } from '@x/raida-protocol';
import type { RequestCheck } from '@x/raida-protocol';
import { AN, ECHO, R, expectXError, fromHex, toHex } from './helpers.js';

const ECHO_REQUEST = fromHex(`
  01 00 03 00 00 00 00 06 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 12 00 00 00 00 00 00 AB CD
  00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65
  3E 3E`);
const KEY_COIN = { denomination: 1, serialNumber: 0x1234, an: AN };
const NONCE = fromHex('A1 B2 C3 D4 E5 F6');

function mutate(change: (bytes: Uint8Array) => void): Uint8Array {
  const bytes = ECHO_REQUEST.slice();
  change(bytes);
  return bytes;
}

function statusOf(check: RequestCheck): number | 'no reply' | 'accepted' {
  if (check.outcome === 'ignored') return 'no reply';
  if (check.outcome === 'accepted') return 'accepted';
  return check.rejection.status;
}

const RAIDA_3 = { raidaId: 3 };

describe('the reference table of one-change requests (server side)', () => {
  it('accepts the unchanged echo', () => {
    const check = checkRequest(ECHO_REQUEST, RAIDA_3);
    expect(check.outcome).toBe('accepted');
    if (check.outcome !== 'accepted') return;
    expect(check.request.command).toBe('echo');
    expect(toHex(check.request.signature)).toBe(toHex(ECHO_REQUEST.subarray(32, 48)));
    expect(toHex(check.request.header.echo)).toBe('ab cd');
  });

  it.each([
    ['byte 0 = 00', mutate((b) => (b[0] = 0x00)), 255],
    ['byte 2 = 04 (sent to RAIDA 3)', mutate((b) => (b[2] = 0x04)), 3],
    ['bytes 6–7 = 00 01', mutate((b) => b.set([0x00, 0x01], 6)), 7],
    ['byte 5 = 63', mutate((b) => (b[5] = 0x63)), 6],
    ['challenge byte 15 = 64', mutate((b) => (b[47] = 0x64)), 37],
    ['last byte 3F', mutate((b) => (b[49] = 0x3f)), 33],
    ['body length 00 13 in a 50-byte datagram', mutate((b) => b.set([0x00, 0x13], 22)), 16],
    ['a 16-byte datagram', ECHO_REQUEST.slice(0, 16), 'no reply'],
    ['challenge = EE×16 (no CRC)', mutate((b) => b.fill(0xee, 32, 48)), 37],
    ['challenge = EE×12 ‖ 18 11 CA 6A', mutate((b) => b.set(fromHex('EEEEEEEEEEEEEEEEEEEEEEEE 1811CA6A'), 32)), 'accepted'],
  ] as const)('%s → %s', (_change, bytes, expected) => {
    expect(statusOf(checkRequest(bytes, RAIDA_3))).toBe(expected);
  });

  it('a 37 keeps the challenge as sent as its (fresh) signature', () => {
    const check = checkRequest(
      mutate((b) => (b[47] = 0x64)),
      RAIDA_3,
    );
    expect(check.outcome).toBe('rejected');
    if (check.outcome === 'rejected') {
      expect(toHex(check.rejection.signature)).toBe(toHex(fromHex('00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 64')));
      expect(check.rejection.reason).toBe('the challenge CRC does not match');
    }
  });
});

describe('checkRequest, further server behaviour', () => {
  it.each([
    ['split id 1', mutate((b) => (b[1] = 1)), 2],
    ['shard 4', mutate((b) => (b[3] = 4)), 4],
    ['shard 3 is fine', mutate((b) => (b[3] = 3)), 'accepted'],
    ['command group 16', mutate((b) => (b[4] = 16)), 5],
    ['encryption type 2', mutate((b) => (b[16] = 2)), 27],
    ['body length 17', mutate((b) => b.set([0x00, 0x11], 22)), 16],
    ['31 bytes', ECHO_REQUEST.slice(0, 31), 'no reply'],
    ['body length 0: echo runs without a challenge', mutate((b) => b.set([0, 0], 22)), 'accepted'],
  ] as const)('%s → %s', (_change, bytes, expected) => {
    expect(statusOf(checkRequest(bytes, RAIDA_3))).toBe(expected);
  });

  it('ignores bytes after header + body length', () => {
    const longer = new Uint8Array(60);
    longer.set(ECHO_REQUEST);
    longer.fill(0x99, 50);
    expect(checkRequest(longer, RAIDA_3).outcome).toBe('accepted');
  });

  it('answers 16 to a datagram over the size limit, and the limit is configurable', () => {
    const coins = Array.from({ length: 50 }, (_, i) => ({ denomination: 0, serialNumber: i, an: AN }));
    const big = buildDetectRequest({ raidaId: 3, coins, maxLength: 2000 });
    expect(statusOf(checkRequest(big.bytes, RAIDA_3))).toBe(16);
    expect(statusOf(checkRequest(big.bytes, { raidaId: 3, maxLength: 1440 }))).toBe('accepted');
  });

  it('honours a configured coin id', () => {
    const built = buildEchoRequest({ raidaId: 3, coinId: 9 });
    expect(statusOf(checkRequest(built.bytes, RAIDA_3))).toBe(7);
    expect(statusOf(checkRequest(built.bytes, { raidaId: 3, coinId: 9 }))).toBe('accepted');
  });

  it('decrypts a type-1 request with the key it looks up by key coin, and answers 34 without one', () => {
    const built = buildEchoRequest({ raidaId: 3, echo: ECHO, nonce: NONCE, random: () => R, encryption: { type: 1, keyCoin: KEY_COIN } });
    const asked: unknown[] = [];
    const check = checkRequest(built.bytes, {
      raidaId: 3,
      keyFor: (coin) => {
        asked.push(coin);
        return AN;
      },
    });
    expect(asked).toEqual([{ denomination: 1, serialNumber: 0x1234 }]);
    expect(check.outcome).toBe('accepted');
    if (check.outcome === 'accepted') {
      expect(toHex(check.request.challenge!)).toBe(toHex(fromHex('00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65')));
      expect(toHex(check.request.signature)).toBe(toHex(fromHex('00 10 20 30 40 50 60 70 80 90 A0 B0 5E AD 27 9A')));
      expect(check.request.header).toMatchObject({ encryptionType: 1, keyDenomination: 1, keySerialNumber: 0x1234, bodyLength: 18 });
    }
    expect(statusOf(checkRequest(built.bytes, { raidaId: 3, keyFor: () => undefined }))).toBe(34);
    expect(statusOf(checkRequest(built.bytes, RAIDA_3))).toBe(34);
    // With the wrong key the challenge decrypts to garbage: a CRC failure, as on a real server.
    expect(statusOf(checkRequest(built.bytes, { raidaId: 3, keyFor: () => new Uint8Array(16) }))).toBe(37);
    expectXError(() => checkRequest(built.bytes, { raidaId: 3, keyFor: () => new Uint8Array(8) }), 'RAIDA_INVALID_OPTION', 'config');
  });

  it('decodes detect and pown coin lists, negative denominations included', () => {
    const coins = [
      { denomination: -8, serialNumber: 1, an: AN },
      { denomination: 6, serialNumber: 1_023_999, an: new Uint8Array(16).fill(7) },
    ];
    const detect = checkRequest(buildDetectRequest({ raidaId: 3, coins }).bytes, RAIDA_3);
    expect(detect.outcome === 'accepted' && detect.request.command === 'detect' && detect.request.coins).toEqual(coins);
    const pownCoins = coins.map((c) => ({ ...c, pan: new Uint8Array(16).fill(0xaa) }));
    const pown = checkRequest(
      buildPownRequest({ raidaId: 3, coins: pownCoins, nonce: NONCE, encryption: { type: 1, keyCoin: KEY_COIN } }).bytes,
      { raidaId: 3, keyFor: () => AN },
    );
    expect(pown.outcome === 'accepted' && pown.request.command === 'pown' && pown.request.coins).toEqual(pownCoins);
  });

  it('answers 39 to a detect or pown payload that is not whole coins', () => {
    const detect = buildDetectRequest({ raidaId: 3, echo: ECHO, random: () => R, coins: [KEY_COIN] }).bytes;
    // Drop the last AN byte and keep a valid terminator and body length.
    const short = new Uint8Array(detect.length - 1);
    short.set(detect.subarray(0, detect.length - 3));
    short.set([0x3e, 0x3e], short.length - 2);
    short[23] = (short[23] ?? 0) - 1;
    expect(statusOf(checkRequest(short, RAIDA_3))).toBe(39);
    const noCoins = mutate((b) => b.set([1, 10], 4));
    expect(statusOf(checkRequest(noCoins, RAIDA_3))).toBe(39);
  });

  it('never throws on arbitrary datagrams and rejects bad options', () => {
    expect(statusOf(checkRequest(new Uint8Array(0), RAIDA_3))).toBe('no reply');
    expectXError(() => checkRequest(ECHO_REQUEST, { raidaId: -1 }), 'RAIDA_INVALID_OPTION', 'config');
    expectXError(() => checkRequest(ECHO_REQUEST, { raidaId: 3, maxLength: 10 }), 'RAIDA_INVALID_OPTION', 'config');
  });
});

describe('parseRequestHeader', () => {
  it('decodes every header field', () => {
    const header = parseRequestHeader(
      fromHex('01 02 03 04 05 06 07 08 00 00 00 00 00 00 00 00 01 F8 FF FF FF FE 01 00 A1 B2 C3 D4 E5 F6 AB CD'),
    );
    expect(header).toEqual({
      routing: 1,
      splitId: 2,
      raidaId: 3,
      shard: 4,
      commandGroup: 5,
      command: 6,
      coinId: 0x0708,
      encryptionType: 1,
      keyDenomination: -8,
      keySerialNumber: 0xfffffffe,
      bodyLength: 256,
      nonce: NONCE,
      echo: ECHO,
    });
  });

  it('throws a protocol error for fewer than 32 bytes', () => {
    expect(expectXError(() => parseRequestHeader(new Uint8Array(31)), 'RAIDA_REQUEST_MALFORMED', 'protocol').context).toEqual({
      length: 31,
    });
  });
});
