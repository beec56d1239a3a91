import { describe, expect, it } from 'vitest';
import {
  buildDetectRequest,
  buildEchoRequest,
  buildPownRequest,
  buildReply,
  buildReplyForRequest,
  buildVersionRequest,
  checkRequest,
  encodeVerdictBitfield,
  validateReply,
} from '@x/raida-protocol';
import type { Coin, ValidatedReply } from '@x/raida-protocol';
import { AN, ECHO, R, expectXError, fromHex, toHex } from './helpers.js';

const CHALLENGE = fromHex('00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65');
const ECHO_REPLY = fromHex(`
  03 00 FA 00 00 01 AB CD 00 00 00 00 00 00 01 2C
  00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65`);
const VERSION_REPLY = fromHex(`
  03 00 FA 00 00 01 AB CD 00 00 00 0A 00 00 00 07
  00 01 02 03 04 05 06 07 08 09 0A 0B 92 70 C9 65
  32 30 32 35 30 33 32 33 3E 3E`);
const NONCE = fromHex('A1 B2 C3 D4 E5 F6');
const KEY_COIN = { denomination: 1, serialNumber: 0x1234, an: AN };
const STALE_SIGNATURE = new Uint8Array(16).fill(0x77);

const echoRequest = () => buildEchoRequest({ raidaId: 3, echo: ECHO, random: () => R });
const coins = (n: number): Coin[] => Array.from({ length: n }, (_, i) => ({ denomination: 0, serialNumber: 100 + i, an: AN }));
const detectRequest = (n: number) => buildDetectRequest({ raidaId: 3, echo: ECHO, random: () => R, coins: coins(n) });

function withStatus(status: number, signature: Uint8Array = CHALLENGE, echo = ECHO): Uint8Array {
  return buildReply({ raidaId: 3, status, echo, signature, executionTimeUs: 12 });
}

function expectOutcome<O extends ValidatedReply['outcome']>(result: ValidatedReply, outcome: O): Extract<ValidatedReply, { outcome: O }> {
  expect(result.outcome).toBe(outcome);
  return result as Extract<ValidatedReply, { outcome: O }>;
}

describe('validateReply: the reference echo and version replies', () => {
  it('accepts the echo reply with a matching signature', () => {
    const result = expectOutcome(validateReply(ECHO_REPLY, echoRequest().expectation), 'success');
    expect(result.status).toMatchObject({ code: 250, name: 'success', kind: 'success' });
    expect(result.reply.executionTimeUs).toBe(300);
    expect(result.version).toBeUndefined();
    expect(result.body).toEqual(new Uint8Array(0));
  });

  it('reads the version string', () => {
    const request = buildVersionRequest({ raidaId: 3, echo: ECHO, random: () => R });
    expect(expectOutcome(validateReply(VERSION_REPLY, request.expectation), 'success').version).toBe('20250323');
  });

  it('never takes a success whose signature does not match: a protocol error', () => {
    const forged = ECHO_REPLY.slice();
    forged[31] = 0x64;
    const error = expectXError(() => validateReply(forged, echoRequest().expectation), 'RAIDA_REPLY_SIGNATURE_MISMATCH', 'protocol');
    expect(error.context).toEqual({ status: 250, raidaId: 3, command: 'echo' });
    // An answer to another request (another challenge) is rejected the same way.
    const other = buildEchoRequest({ raidaId: 3, echo: ECHO });
    expectXError(() => validateReply(ECHO_REPLY, other.expectation), 'RAIDA_REPLY_SIGNATURE_MISMATCH', 'protocol');
  });

  it('does not read past a datagram view into the rest of its buffer', () => {
    const buffer = new Uint8Array(64).fill(0x3e);
    buffer.set(ECHO_REPLY);
    expect(validateReply(buffer.subarray(0, 32), echoRequest().expectation).outcome).toBe('success');
  });
});

describe('validateReply: every negative status of the reference table', () => {
  it.each([
    [255, 'invalidRouting', 'header-error'],
    [3, 'invalidRaidaId', 'header-error'],
    [7, 'invalidCoinId', 'header-error'],
    [6, 'invalidCommand', 'header-error'],
    [33, 'invalidEndOfPacket', 'packet-error'],
    [16, 'invalidPacketLength', 'packet-error'],
    [2, 'invalidSplitId', 'header-error'],
    [4, 'invalidShardId', 'header-error'],
    [5, 'invalidCommandGroup', 'header-error'],
  ] as const)('status %i (%s) carries stale bytes: reported, not checked', (status, name, kind) => {
    const reply = buildReply({ raidaId: 3, status, commandGroup: 1, echo: fromHex('99 99'), signature: STALE_SIGNATURE });
    const result = expectOutcome(validateReply(reply, echoRequest().expectation), 'error');
    expect(result.staleFields).toBe(true);
    expect(result.status).toMatchObject({ code: status, name, kind, signatureTrusted: false });
  });

  it('status 37 to a challenge with byte 15 = 64: fresh echo bytes and the challenge as sent as signature', () => {
    const sent = CHALLENGE.slice();
    sent[15] = 0x64;
    const request = buildEchoRequest({ raidaId: 3, echo: ECHO, challenge: sent });
    const result = expectOutcome(validateReply(withStatus(37, sent), request.expectation), 'error');
    expect(result.staleFields).toBe(false);
    expect(result.status).toMatchObject({ code: 37, name: 'invalidCrc', kind: 'request-error' });
    expect(toHex(result.reply.echo)).toBe('ab cd');
  });

  it('status 37 to challenge EE×16, and 250 to EE×12 ‖ 18 11 CA 6A', () => {
    const ee = new Uint8Array(16).fill(0xee);
    expect(validateReply(withStatus(37, ee), buildEchoRequest({ raidaId: 3, challenge: ee }).expectation).status.code).toBe(37);
    const good = fromHex('EEEEEEEEEEEEEEEEEEEEEEEE 1811CA6A');
    expect(validateReply(withStatus(250, good), buildEchoRequest({ raidaId: 3, challenge: good }).expectation).outcome).toBe('success');
  });

  it('errors with a trustworthy signature must match it too', () => {
    for (const status of [25, 37, 39, 40, 48, 204, 99]) {
      expect(validateReply(withStatus(status), echoRequest().expectation).outcome).toBe('error');
      expectXError(
        () => validateReply(withStatus(status, STALE_SIGNATURE), echoRequest().expectation),
        'RAIDA_REPLY_SIGNATURE_MISMATCH',
        'protocol',
      );
    }
    expect(validateReply(withStatus(99), echoRequest().expectation).status).toMatchObject({ name: 'unknown99', kind: 'unknown' });
  });
});

describe('validateReply: detect and pown verdicts', () => {
  it('241 means every coin passed, 242 every coin failed', () => {
    expect(expectOutcome(validateReply(withStatus(241), detectRequest(3).expectation), 'coins').verdicts).toEqual([true, true, true]);
    expect(expectOutcome(validateReply(withStatus(242), detectRequest(2).expectation), 'coins').verdicts).toEqual([false, false]);
  });

  it.each([
    ['[good, bad]', '01 3E 3E', [true, false]],
    ['[bad, good]', '02 3E 3E', [false, true]],
    ['[good, bad, good]', '05 3E 3E', [true, false, true]],
    ['9 coins [bad×8, good]', '00 01 3E 3E', [false, false, false, false, false, false, false, false, true]],
  ])('mixed reply for %s has body %s', (_name, body, verdicts) => {
    const bodyBytes = fromHex(body);
    const reply = buildReply({
      raidaId: 3,
      status: 243,
      echo: ECHO,
      signature: CHALLENGE,
      body: bodyBytes.subarray(0, bodyBytes.length - 2),
    });
    expect(toHex(reply.subarray(32))).toBe(toHex(bodyBytes));
    const result = expectOutcome(validateReply(reply, detectRequest(verdicts.length).expectation), 'coins');
    expect(result.verdicts).toEqual(verdicts);
    expect(result.status).toMatchObject({ code: 243, name: 'mixed', kind: 'coin-result' });
  });

  it('rejects a mixed reply without a bitfield or with one of the wrong length', () => {
    expectXError(() => validateReply(withStatus(243), detectRequest(2).expectation), 'RAIDA_REPLY_BAD_BODY', 'protocol');
    const twoBytes = buildReply({ raidaId: 3, status: 243, echo: ECHO, signature: CHALLENGE, body: fromHex('01 00') });
    expectXError(() => validateReply(twoBytes, detectRequest(3).expectation), 'RAIDA_REPLY_BAD_BODY', 'protocol');
  });

  it('rejects success statuses that do not belong to the command', () => {
    expect(
      expectXError(() => validateReply(withStatus(241), echoRequest().expectation), 'RAIDA_REPLY_UNEXPECTED_STATUS', 'protocol').context,
    ).toEqual({ status: 241, raidaId: 3, command: 'echo' });
    expectXError(() => validateReply(withStatus(250), detectRequest(1).expectation), 'RAIDA_REPLY_UNEXPECTED_STATUS', 'protocol');
  });

  it('rejects a version reply without a readable version', () => {
    const request = buildVersionRequest({ raidaId: 3, echo: ECHO, random: () => R });
    expectXError(() => validateReply(withStatus(250), request.expectation), 'RAIDA_REPLY_BAD_BODY', 'protocol');
    const binary = buildReply({ raidaId: 3, status: 250, echo: ECHO, signature: CHALLENGE, body: fromHex('00 FF') });
    expectXError(() => validateReply(binary, request.expectation), 'RAIDA_REPLY_BAD_BODY', 'protocol');
  });
});

describe('validateReply: encrypted (type 1) replies', () => {
  const encryption = { type: 1 as const, keyCoin: KEY_COIN };
  const server = (bytes: Uint8Array) => {
    const check = checkRequest(bytes, { raidaId: 3, keyFor: () => AN });
    if (check.outcome !== 'accepted') throw new Error(check.outcome);
    return check.request;
  };

  it('checks the signature challenge XOR key (the reference value)', () => {
    const built = buildEchoRequest({ raidaId: 3, echo: ECHO, nonce: NONCE, random: () => R, encryption });
    const reply = withStatus(250, fromHex('00 10 20 30 40 50 60 70 80 90 A0 B0 5E AD 27 9A'));
    expect(validateReply(reply, built.expectation).outcome).toBe('success');
    // The plain challenge is not the signature of an encrypted request.
    expectXError(() => validateReply(withStatus(250), built.expectation), 'RAIDA_REPLY_SIGNATURE_MISMATCH', 'protocol');
  });

  it("accepts key-coin-not-found (34) with its stale signature when the echo bytes are the request's", () => {
    const built = buildEchoRequest({ raidaId: 3, echo: ECHO, nonce: NONCE, random: () => R, encryption });
    const check = checkRequest(built.bytes, { raidaId: 3, keyFor: () => undefined });
    if (check.outcome !== 'rejected') throw new Error(check.outcome);
    expect(check.rejection.status).toBe(34);
    const reply = buildReplyForRequest(check.rejection, { stale: { commandGroup: 0, echo: fromHex('00 00'), signature: STALE_SIGNATURE } });
    const result = expectOutcome(validateReply(reply, built.expectation), 'error');
    expect(result.status.code).toBe(34);
    expect(result.staleFields).toBe(true);
    expectXError(
      () => validateReply(withStatus(34, STALE_SIGNATURE, fromHex('00 00')), built.expectation),
      'RAIDA_REPLY_ECHO_MISMATCH',
      'protocol',
    );
  });

  it.each(['continue', 'restart'] as const)('decrypts a version body whose counter convention is %s', (convention) => {
    const built = buildVersionRequest({ raidaId: 3, echo: ECHO, nonce: NONCE, random: () => R, encryption });
    const reply = buildReplyForRequest(server(built.bytes), {
      status: 250,
      body: new TextEncoder().encode('20250323'),
      replyCounter: convention,
    });
    const result = expectOutcome(validateReply(reply, built.expectation), 'success');
    expect(result.version).toBe('20250323');
    expect(result.replyCounter).toBe(convention);
    expect(expectOutcome(validateReply(reply, built.expectation, { replyCounter: convention }), 'success').version).toBe('20250323');
    const other = convention === 'continue' ? 'restart' : 'continue';
    expectXError(() => validateReply(reply, built.expectation, { replyCounter: other }), 'RAIDA_REPLY_BAD_BODY', 'protocol');
  });

  it.each(['continue', 'restart'] as const)('decrypts a mixed bitfield for many coins (counter %s)', (convention) => {
    const verdicts = Array.from({ length: 20 }, (_, i) => i % 3 === 0);
    // Fixed echo and challenge: 'auto' can misread a body under the other convention for some keystreams
    // (see the README), so a random request would make this test pass or fail by chance.
    const built = buildDetectRequest({ raidaId: 3, nonce: NONCE, echo: ECHO, random: () => R, coins: coins(20), encryption });
    const reply = buildReplyForRequest(server(built.bytes), {
      status: 243,
      body: encodeVerdictBitfield(verdicts),
      replyCounter: convention,
    });
    const result = expectOutcome(validateReply(reply, built.expectation), 'coins');
    expect(result.verdicts).toEqual(verdicts);
    expect(result.replyCounter).toBe(convention);
  });

  it('rejects an encrypted mixed body that decrypts to no mixed bitfield under either convention', () => {
    const built = buildPownRequest({
      raidaId: 3,
      nonce: NONCE,
      echo: ECHO,
      random: () => R,
      coins: coins(2).map((c) => ({ ...c, pan: AN })),
      encryption,
    });
    const allPass = buildReplyForRequest(server(built.bytes), { status: 243, body: encodeVerdictBitfield([true, true]) });
    expectXError(() => validateReply(allPass, built.expectation), 'RAIDA_REPLY_BAD_BODY', 'protocol');
  });
});
