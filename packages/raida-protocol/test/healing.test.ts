import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import {
  buildFindRequest,
  buildFixRequest,
  buildGetTicketRequest,
  buildReply,
  buildValidateTicketRequest,
  checkHealingRequest,
  fixedAn,
  healingBodyLength,
  maxHealingCoinsPerRequest,
  validateHealingReply,
} from '@x/raida-protocol';
import type { HealingExpectation } from '@x/raida-protocol';
import { ECHO, expectXError, fromHex, toHex } from './helpers.js';

// shared/raida-wallet.md §2.9: coin den 2 SN 500, challenge 00..0B ‖ CRC32, echo AB CD.
const CHALLENGE = fromHex('00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65');
const WALLET_AN_R0 = fromHex('C2 C9 B6 18 D4 CA 08 3F C1 CD EF 30 AB 6A B6 1C');
const COIN_500 = { denomination: 2, serialNumber: 500 };
const PG = Uint8Array.from({ length: 16 }, (_, i) => i);

const GET_TICKET_R0 = fromHex(`
01 00 00 00 02 28 00 06 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 27 00 00 00 00 00 00 AB CD
00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65
02 00 00 01 F4 C2 C9 B6 18 D4 CA 08 3F C1 CD EF
30 AB 6A B6 1C 3E 3E`);
const GET_TICKET_R0_REPLY = fromHex(`
00 00 F1 02 00 01 AB CD 00 00 00 06 00 00 00 BB
00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65
B9 60 0E 1C 3E 3E`);
const TICKETS_R0_R19 = fromHex(`
B9 60 0E 1C C3 AC 2D 89 7B 41 2A F2 FB D6 0E B1 09 A6 69 D2 BE B9 A0 C1 A7 1C 69 6F 04 3A 4C 6D 4E 48 54 AA 18 4E 51 8A
01 ED 2D D2 C4 3F 41 A4 88 ED 98 55 E3 71 F0 78 B4 A4 65 AF 87 56 D3 61 7D 64 99 B5 35 B1 21 58 13 71 74 51 00 96 6B 85`);
const FIX_R20 = fromHex(`
01 00 14 00 02 50 00 06 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 8B 00 00 00 00 00 00 AB CD
00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65
02 00 00 01 F4 00 01 02 03 04 05 06 07 08 09 0A
0B 0C 0D 0E 0F B9 60 0E 1C C3 AC 2D 89 7B 41 2A
F2 FB D6 0E B1 09 A6 69 D2 BE B9 A0 C1 A7 1C 69
6F 04 3A 4C 6D 4E 48 54 AA 18 4E 51 8A 01 ED 2D
D2 C4 3F 41 A4 88 ED 98 55 E3 71 F0 78 B4 A4 65
AF 87 56 D3 61 7D 64 99 B5 35 B1 21 58 13 71 74
51 00 96 6B 85 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 3E 3E`);
const FIX_R20_REPLY = fromHex(`
14 00 F2 02 00 01 AB CD 00 00 00 00 00 00 42 87
00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65`);

function tickets(): number[] {
  const out: number[] = [];
  for (let i = 0; i < 20; i++) out.push(new DataView(TICKETS_R0_R19.buffer).getUint32(i * 4));
  return [...out, 0, 0, 0, 0, 0];
}

function reply(raidaId: number, status: number, expectation: HealingExpectation, body?: Uint8Array): Uint8Array {
  return buildReply({
    raidaId,
    status,
    commandGroup: 2,
    echo: expectation.echo,
    signature: expectation.signature,
    ...(body === undefined ? {} : { body }),
  });
}

describe('healing requests, byte for byte against the captured hex', () => {
  it('get_ticket to RAIDA 0 (71 bytes) and its 241 reply with ticket B9600E1C', () => {
    const built = buildGetTicketRequest({ raidaId: 0, challenge: CHALLENGE, echo: ECHO, coins: [{ ...COIN_500, an: WALLET_AN_R0 }] });
    expect(toHex(built.bytes)).toBe(toHex(GET_TICKET_R0));
    const validated = validateHealingReply(GET_TICKET_R0_REPLY, built.expectation);
    expect(validated).toMatchObject({ outcome: 'ticket', passed: [true], ticket: 0xb9600e1c });
  });

  it('a fracked RAIDA answers get_ticket 242 with no ticket', () => {
    const built = buildGetTicketRequest({ raidaId: 20, challenge: CHALLENGE, echo: ECHO, coins: [{ ...COIN_500, an: WALLET_AN_R0 }] });
    const bytes = fromHex(`14 00 F2 02 00 01 AB CD 00 00 00 00 00 00 00 10 ${toHex(CHALLENGE)}`);
    expect(validateHealingReply(bytes, built.expectation)).toMatchObject({ outcome: 'ticket', passed: [false], ticket: undefined });
  });

  it('get_ticket mixed [good, bad, good] → F3, body 05 D1 C4 57 14', () => {
    const coins = [500, 501, 502].map((serialNumber) => ({ denomination: 2, serialNumber, an: WALLET_AN_R0 }));
    const built = buildGetTicketRequest({ raidaId: 3, random: (n) => new Uint8Array(n), coins });
    const validated = validateHealingReply(reply(3, 243, built.expectation, fromHex('05 D1 C4 57 14')), built.expectation);
    expect(validated).toMatchObject({ outcome: 'ticket', passed: [true, false, true], ticket: 0xd1c45714 });
  });

  it('fix to RAIDA 20 (171 bytes, PG 00..0F, tickets of R0–R19) and its 242 reply', () => {
    const built = buildFixRequest({ raidaId: 20, challenge: CHALLENGE, echo: ECHO, coins: [COIN_500], pg: PG, tickets: tickets() });
    expect(built.bytes.length).toBe(171);
    expect(toHex(built.bytes)).toBe(toHex(FIX_R20));
    expect(validateHealingReply(FIX_R20_REPLY, built.expectation)).toMatchObject({ outcome: 'fix', fixed: [false] });
  });

  it('fix mixed: 4 coins, 3 with votes → F3 body 07', () => {
    const coins = [510, 511, 512, 513].map((serialNumber) => ({ denomination: 2, serialNumber }));
    const built = buildFixRequest({ raidaId: 24, coins, pg: PG, tickets: tickets() });
    expect(validateHealingReply(reply(24, 243, built.expectation, fromHex('07')), built.expectation)).toMatchObject({
      fixed: [true, true, true, false],
    });
  });

  it('new ANs are MD5(raida ‖ den ‖ SN ‖ PG): the note’s two vectors', () => {
    expect(Buffer.from(fixedAn(20, 2, 500, PG)).toString('hex')).toBe('eb4b420732908e35f5d94e3a143ef86f');
    expect(Buffer.from(fixedAn(24, 2, 510, PG)).toString('hex')).toBe('22976b13fa5bca257dc0a59325a1fb6f');
  });

  it('validate_ticket: claimant and ticket in 23 bytes; a 250 lists the ticket’s coins', () => {
    const built = buildValidateTicketRequest({
      raidaId: 0,
      challenge: CHALLENGE,
      echo: new Uint8Array(2),
      claimantId: 9,
      ticket: 0xd1c45714,
    });
    expect(toHex(built.bytes.subarray(22, 24))).toBe('00 17');
    expect(toHex(built.bytes.subarray(48))).toBe('09 d1 c4 57 14 3e 3e');
    const live = fromHex(`00 00 FA 02 00 01 00 00 00 00 00 0C 00 00 00 01 ${toHex(CHALLENGE)} 02 00 00 01 F7 02 00 00 01 F9 3E 3E`);
    expect(validateHealingReply(live, built.expectation)).toMatchObject({
      outcome: 'claimed',
      coins: [
        { denomination: 2, serialNumber: 503 },
        { denomination: 2, serialNumber: 505 },
      ],
    });
    expect(validateHealingReply(reply(0, 44, built.expectation), built.expectation)).toMatchObject({
      outcome: 'error',
      staleFields: false,
    });
  });

  it('find: 209/210/208 for all alike, 211 with one byte per coin (3 coins → 01 02 00)', () => {
    const coins = [1, 2, 3].map((serialNumber) => ({ denomination: 2, serialNumber, an: WALLET_AN_R0, pan: PG }));
    const built = buildFindRequest({ raidaId: 20, coins });
    expect(built.bytes.length).toBe(32 + 18 + 3 * 37);
    expect(validateHealingReply(reply(20, 211, built.expectation, fromHex('01 02 00')), built.expectation)).toMatchObject({
      found: ['an', 'pan', 'neither'],
    });
    expect(validateHealingReply(reply(20, 210, built.expectation), built.expectation)).toMatchObject({ found: ['pan', 'pan', 'pan'] });
    expect(validateHealingReply(reply(20, 209, built.expectation), built.expectation)).toMatchObject({ found: ['an', 'an', 'an'] });
    expect(validateHealingReply(reply(20, 208, built.expectation), built.expectation)).toMatchObject({
      found: ['neither', 'neither', 'neither'],
    });
    expectXError(
      () => validateHealingReply(reply(20, 211, built.expectation, fromHex('01 03 00')), built.expectation),
      'RAIDA_REPLY_BAD_BODY',
      'protocol',
    );
    expectXError(
      () => validateHealingReply(reply(20, 241, built.expectation), built.expectation),
      'RAIDA_REPLY_UNEXPECTED_STATUS',
      'protocol',
    );
  });

  it('a reply with another signature is never a result', () => {
    const built = buildGetTicketRequest({ raidaId: 0, challenge: CHALLENGE, echo: ECHO, coins: [{ ...COIN_500, an: WALLET_AN_R0 }] });
    const forged = GET_TICKET_R0_REPLY.slice();
    forged[20] = (forged[20] ?? 0) ^ 1;
    expectXError(() => validateHealingReply(forged, built.expectation), 'RAIDA_REPLY_SIGNATURE_MISMATCH', 'protocol');
  });

  it('body lengths and batch limits of §2.0', () => {
    expect([
      healingBodyLength('get_ticket', 1),
      healingBodyLength('validate_ticket', 0),
      healingBodyLength('find', 1),
      healingBodyLength('fix', 1),
    ]).toEqual([39, 23, 55, 139]);
    expect([maxHealingCoinsPerRequest('get_ticket'), maxHealingCoinsPerRequest('find'), maxHealingCoinsPerRequest('fix')]).toEqual([
      46, 26, 171,
    ]);
    expect([
      maxHealingCoinsPerRequest('get_ticket', 1440),
      maxHealingCoinsPerRequest('find', 1440),
      maxHealingCoinsPerRequest('fix', 1440),
    ]).toEqual([66, 37, 254]);
  });

  it('checks maxLength as every request does, and refuses a request over it', () => {
    const coin = { denomination: 2, serialNumber: 1, an: WALLET_AN_R0 };
    for (const maxLength of [Number.NaN, 10, 1.5]) {
      expect(
        expectXError(() => buildGetTicketRequest({ raidaId: 1, coins: [coin], maxLength }), 'RAIDA_INVALID_OPTION', 'config').message,
      ).toMatch(/^maxLength must be an integer/);
    }
    const tooLarge = expectXError(
      () => buildGetTicketRequest({ raidaId: 1, coins: [coin], maxLength: 70 }),
      'RAIDA_REQUEST_TOO_LARGE',
      'config',
    );
    expect(tooLarge.context).toEqual({ command: 'get_ticket', coinCount: 1, length: 71, maxLength: 70 });
  });

  it('refuses type-1 healing requests of the crash lengths (§3)', () => {
    const keyCoin = { denomination: 1, serialNumber: 9, an: WALLET_AN_R0 };
    const coin = (serialNumber: number) => ({ denomination: 2, serialNumber, an: WALLET_AN_R0, pan: PG });
    expectXError(
      () => buildGetTicketRequest({ raidaId: 1, coins: [coin(1)], encryption: { type: 1, keyCoin } }),
      'RAIDA_INVALID_OPTION',
      'config',
    );
    expect(buildGetTicketRequest({ raidaId: 1, coins: [coin(1), coin(2)], encryption: { type: 1, keyCoin } }).bytes.length).toBe(
      32 + 18 + 42,
    );
    expectXError(
      () => buildFindRequest({ raidaId: 1, coins: [coin(1)], encryption: { type: 1, keyCoin } }),
      'RAIDA_INVALID_OPTION',
      'config',
    );
    const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ denomination: 2, serialNumber: i }));
    expectXError(
      () => buildFixRequest({ raidaId: 1, coins: ids(3), pg: PG, tickets: tickets(), encryption: { type: 1, keyCoin } }),
      'RAIDA_INVALID_OPTION',
      'config',
    );
    expect(buildFixRequest({ raidaId: 1, coins: ids(1), pg: PG, tickets: tickets(), encryption: { type: 1, keyCoin } }).bytes.length).toBe(
      171,
    );
    expectXError(
      () => buildValidateTicketRequest({ raidaId: 1, claimantId: 2, ticket: 1, encryption: { type: 1, keyCoin } }),
      'RAIDA_INVALID_OPTION',
      'config',
    );
  });
});

describe('healing requests as a server reads them', () => {
  const check = (bytes: Uint8Array, raidaId = 20) => checkHealingRequest(bytes, { raidaId });

  it('decodes the captured fix: coin, PG and 25 tickets', () => {
    const result = check(FIX_R20);
    expect(result?.outcome).toBe('accepted');
    if (result?.outcome !== 'accepted' || result.request.command !== 'fix') throw new Error('not a fix');
    expect(result.request.coins).toEqual([COIN_500]);
    expect(result.request.pg).toEqual(PG);
    expect(result.request.tickets).toEqual(tickets());
    expect(result.request.header.command).toBe(80);
  });

  it('answers the command’s own length errors: 16 below the minimum, 39 for partial records, 36 without a body', () => {
    const withBody = (group: number, command: number, payloadLength: number): Uint8Array => {
      const bytes = new Uint8Array(32 + 18 + payloadLength);
      bytes.set([1, 0, 20, 0, group, command, 0, 6]);
      bytes[22] = (18 + payloadLength) >> 8;
      bytes[23] = (18 + payloadLength) & 0xff;
      bytes.set(CHALLENGE, 32);
      bytes.set([0x3e, 0x3e], bytes.length - 2);
      return bytes;
    };
    const status = (bytes: Uint8Array) => {
      const result = check(bytes);
      return result?.outcome === 'rejected' ? result.rejection.status : result?.outcome;
    };
    expect(status(withBody(2, 40, 20))).toBe(16);
    expect(status(withBody(2, 40, 22))).toBe(39);
    expect(status(withBody(2, 40, 21))).toBe('accepted');
    expect(status(withBody(2, 50, 6))).toBe(16);
    expect(status(withBody(2, 50, 5))).toBe('accepted');
    expect(status(withBody(2, 60, 36))).toBe(16);
    expect(status(withBody(2, 60, 38))).toBe(39);
    expect(status(withBody(2, 80, 120))).toBe(16);
    expect(status(withBody(2, 80, 122))).toBe(39);
    const noBody = new Uint8Array(32);
    noBody.set([1, 0, 20, 0, 2, 40, 0, 6]);
    expect(status(noBody)).toBe(36);
    const badCrc = withBody(2, 40, 21);
    badCrc[47] = 0;
    expect(status(badCrc)).toBe(37);
    expect(check(withBody(1, 10, 21))).toBeUndefined();
  });
});

describe('healing replies under fuzzing', () => {
  const SEED = Number(process.env.FC_SEED ?? 0x5eed);
  const RUNS = Number(process.env.FUZZ_RUNS ?? 4_000);
  const coins = (n: number) => Array.from({ length: n }, (_, i) => ({ denomination: 1, serialNumber: i, an: WALLET_AN_R0, pan: PG }));
  const expectations: readonly HealingExpectation[] = [
    buildGetTicketRequest({ raidaId: 7, coins: coins(1) }).expectation,
    buildGetTicketRequest({ raidaId: 7, coins: coins(9) }).expectation,
    buildFindRequest({ raidaId: 7, coins: coins(3) }).expectation,
    buildFixRequest({ raidaId: 7, coins: coins(2), pg: PG, tickets: tickets() }).expectation,
    buildValidateTicketRequest({ raidaId: 7, claimantId: 1, ticket: 5 }).expectation,
    buildGetTicketRequest({ raidaId: 7, coins: coins(2), encryption: { type: 1, keyCoin: coins(1)[0]! } }).expectation,
  ];

  it('any datagram either validates to a well-formed result or throws a protocol XError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...expectations),
        fc.constantFrom(208, 209, 210, 211, 241, 242, 243, 250, 16, 34, 42, 43, 44),
        fc.option(fc.uint8Array({ minLength: 0, maxLength: 12 })),
        fc.boolean(),
        (expectation, status, body, goodSignature) => {
          const bytes = buildReply({
            raidaId: 7,
            status,
            echo: expectation.echo,
            signature: goodSignature ? expectation.signature : new Uint8Array(16).fill(1),
            ...(body === null ? {} : { body }),
          });
          try {
            const result = validateHealingReply(bytes, expectation);
            const n = expectation.coinCount;
            if (result.outcome === 'ticket') {
              expect(result.passed).toHaveLength(n);
              expect(result.ticket === undefined).toBe(!result.passed.includes(true));
            } else if (result.outcome === 'find') expect(result.found).toHaveLength(n);
            else if (result.outcome === 'fix') expect(result.fixed).toHaveLength(n);
            if (result.outcome !== 'error' && status !== 16) expect(goodSignature).toBe(true);
          } catch (error) {
            expect(isXError(error) && error.category === 'protocol').toBe(true);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('arbitrary bytes never make the server-side check throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.constantFrom(40, 50, 60, 80), (bytes, command) => {
        if (bytes.length >= 6) {
          bytes[4] = 2;
          bytes[5] = command;
        }
        const result = checkHealingRequest(bytes, { raidaId: 7 });
        if (result !== undefined) expect(['accepted', 'rejected', 'ignored']).toContain(result.outcome);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
