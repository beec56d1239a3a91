import { describe, expect, it } from 'vitest';
import { buildEchoRequest, buildReplyForRequest, checkRequest, parseReply, validateReply } from '@x/raida-protocol';
import { AN, ECHO, R, expectXError, fromHex, toHex } from './helpers.js';

// Replies exactly as shared/raida-protocol.md records them from a running RAIDAX server.

/** The type-1 echo of the reference: key coin den 1, sn 0x1234, nonce A1 B2 C3 D4 E5 F6 AB CD. */
const TYPE1_ECHO = fromHex(`
  01 00 03 00 00 00 00 06 00 00 00 00 00 00 00 00
  01 01 00 00 12 34 00 12 A1 B2 C3 D4 E5 F6 AB CD
  AA 76 F6 F3 70 7F 74 8B B8 58 1F 24 77 0D FB AA
  3E 3E`);
const KEY_COIN = { denomination: 1, serialNumber: 0x1234, an: AN };
const type1Echo = () =>
  buildEchoRequest({
    raidaId: 3,
    echo: ECHO,
    nonce: fromHex('A1 B2 C3 D4 E5 F6'),
    random: () => R,
    encryption: { type: 1, keyCoin: KEY_COIN },
  });

/** The 48-byte status-27 reply as seen on the wire (execution time 0x0D µs). */
const STATUS_27_REPLY = fromHex(`
  00 00 1B 00 00 00 00 0D 00 00 00 00 00 00 00 00
  03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00`);

/** A status-34 reply: fresh echo bytes AB CD, a signature left over from an older request. */
function status34Reply(echo: string, staleSignature: string): Uint8Array {
  return fromHex(`03 00 22 00 00 01 ${echo} 00 00 00 00 00 00 00 09 ${staleSignature}`);
}

describe('status 34: the encryption key coin is not on this RAIDA', () => {
  it('is read as status 34 although its signature is stale, as soon as it arrives', () => {
    const expectation = type1Echo().expectation;
    expect(toHex(type1Echo().bytes)).toBe(toHex(TYPE1_ECHO));
    for (const stale of ['77'.repeat(16), '00'.repeat(16), '00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65']) {
      const result = validateReply(status34Reply('AB CD', stale), expectation);
      expect(result).toMatchObject({ outcome: 'error', staleFields: true, status: { code: 34, name: 'encryptionCoinNotFound' } });
    }
  });

  it('must carry the request echo bytes, which are fresh on a 34', () => {
    expectXError(
      () => validateReply(status34Reply('AB CE', '77'.repeat(16)), type1Echo().expectation),
      'RAIDA_REPLY_ECHO_MISMATCH',
      'protocol',
    );
  });

  it('is no answer to an unencrypted request', () => {
    const plain = buildEchoRequest({ raidaId: 3, echo: ECHO, random: () => R }).expectation;
    expectXError(() => validateReply(status34Reply('AB CD', '77'.repeat(16)), plain), 'RAIDA_REPLY_UNEXPECTED_STATUS', 'protocol');
  });

  it('is what buildReplyForRequest sends: fresh echo, the stale command group and signature', () => {
    const check = checkRequest(TYPE1_ECHO, { raidaId: 3, keyFor: () => undefined });
    if (check.outcome !== 'rejected') throw new Error('expected a rejection');
    const stale = { commandGroup: 1, echo: fromHex('11 22'), signature: new Uint8Array(16).fill(0x77) };
    const reply = buildReplyForRequest(check.rejection, { executionTimeUs: 9, stale });
    expect(toHex(reply)).toBe(toHex(fromHex(`03 00 22 01 00 01 AB CD 00 00 00 00 00 00 00 09 ${'77'.repeat(16)}`)));
  });
});

describe('status 27 in the 48-byte reply of the other layout', () => {
  it('parses the observed bytes: status 27, execution time from bytes 4–7, no body', () => {
    expect(parseReply(STATUS_27_REPLY)).toMatchObject({
      status: 27,
      executionTimeUs: 13,
      headerLength: 48,
      layout: 'modern',
      body: undefined,
    });
  });

  it('is a server error 27, not a signature mismatch', () => {
    const result = validateReply(STATUS_27_REPLY, buildEchoRequest({ raidaId: 0, echo: ECHO, random: () => R }).expectation);
    expect(result).toMatchObject({ outcome: 'error', staleFields: true, status: { code: 27, name: 'invalidEncryptionType' } });
  });

  it('reads the status even when the stale bytes 9–11 are not zero', () => {
    const noisy = STATUS_27_REPLY.slice();
    noisy.fill(0x5a, 8, 16);
    noisy.fill(0x5a, 17);
    expect(validateReply(noisy, buildEchoRequest({ raidaId: 0, echo: ECHO, random: () => R }).expectation).status.code).toBe(27);
  });

  it('is what buildReplyForRequest sends to a request of 48 bytes or more with encryption type 3', () => {
    const bytes = buildEchoRequest({ raidaId: 0, echo: ECHO, random: () => R }).bytes;
    bytes[16] = 3;
    const check = checkRequest(bytes, { raidaId: 0 });
    if (check.outcome !== 'rejected') throw new Error('expected a rejection');
    expect(toHex(buildReplyForRequest(check.rejection, { executionTimeUs: 13 }))).toBe(toHex(STATUS_27_REPLY));
  });
});
