import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEchoRequest, buildReply, buildReplyForRequest, buildVersionRequest, checkRequest, parseReply } from '@x/raida-protocol';
import type { ParsedRequest, RequestRejection } from '@x/raida-protocol';
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

function accepted(bytes: Uint8Array, keyFor?: () => Uint8Array): ParsedRequest {
  const check = checkRequest(bytes, { raidaId: 3, keyFor });
  if (check.outcome !== 'accepted') throw new Error(`expected acceptance, got ${check.outcome}`);
  return check.request;
}

function rejected(bytes: Uint8Array): RequestRejection {
  const check = checkRequest(bytes, { raidaId: 3 });
  if (check.outcome !== 'rejected') throw new Error(`expected rejection, got ${check.outcome}`);
  return check.rejection;
}

describe('parseReply', () => {
  it('decodes the reference echo reply (32 bytes, no body)', () => {
    expect(parseReply(ECHO_REPLY)).toEqual({
      raidaId: 3,
      shard: 0,
      status: 250,
      commandGroup: 0,
      frameCount: 1,
      echo: ECHO,
      bodySize: 0,
      executionTimeUs: 300,
      signature: CHALLENGE,
      headerLength: 32,
      layout: 'classic',
      headerExtension: new Uint8Array(0),
      body: undefined,
    });
  });

  it('decodes the reference version reply (42 bytes, body size 00 00 0A)', () => {
    const reply = parseReply(VERSION_REPLY);
    expect(reply.bodySize).toBe(10);
    expect(new TextDecoder().decode(reply.body)).toBe('20250323');
    expect(reply.executionTimeUs).toBe(7);
  });

  it('accepts a 48-byte header without a body and keeps bytes 32–47', () => {
    const long = new Uint8Array(48);
    long.set(ECHO_REPLY);
    long[2] = 48;
    long.fill(0x42, 32);
    const reply = parseReply(long);
    expect(reply.status).toBe(48);
    expect(reply.headerLength).toBe(48);
    expect(reply.headerExtension).toEqual(new Uint8Array(16).fill(0x42));
    expect(reply.body).toBeUndefined();
  });

  it('reads a full u32 execution time and u24 body size', () => {
    const reply = buildReply({ raidaId: 0, status: 250, executionTimeUs: 0xfffffffe, body: new Uint8Array(300) });
    expect(parseReply(reply)).toMatchObject({ executionTimeUs: 0xfffffffe, bodySize: 302 });
    expect(toHex(reply.subarray(8, 12))).toBe('00 00 01 2e');
  });

  it('rejects malformed datagrams with protocol errors', () => {
    expect(expectXError(() => parseReply(ECHO_REPLY.subarray(0, 31)), 'RAIDA_REPLY_TOO_SHORT', 'protocol').context).toEqual({ length: 31 });
    expectXError(() => parseReply(new Uint8Array(0)), 'RAIDA_REPLY_TOO_SHORT', 'protocol');
    const withTail = new Uint8Array(40);
    withTail.set(ECHO_REPLY);
    expectXError(() => parseReply(withTail), 'RAIDA_REPLY_LENGTH_MISMATCH', 'protocol');
    expectXError(() => parseReply(VERSION_REPLY.subarray(0, 41)), 'RAIDA_REPLY_LENGTH_MISMATCH', 'protocol');
    const sizeOne = ECHO_REPLY.slice();
    sizeOne[11] = 1;
    expectXError(() => parseReply(Uint8Array.of(...sizeOne, 0x3e)), 'RAIDA_REPLY_LENGTH_MISMATCH', 'protocol');
    const badEnd = VERSION_REPLY.slice();
    badEnd[41] = 0x3f;
    expect(expectXError(() => parseReply(badEnd), 'RAIDA_REPLY_BAD_TERMINATOR', 'protocol').context).toEqual({
      length: 42,
      bodySize: 10,
      status: 250,
    });
  });

  it('returns copies, so the datagram buffer can be reused', () => {
    const bytes = VERSION_REPLY.slice();
    const reply = parseReply(bytes);
    bytes.fill(0);
    expect(toHex(reply.signature)).toBe(toHex(CHALLENGE));
    expect(new TextDecoder().decode(reply.body)).toBe('20250323');
  });
});

describe('buildReply', () => {
  it('reproduces the reference echo and version replies', () => {
    const base = { raidaId: 3, status: 250, echo: ECHO, signature: CHALLENGE };
    expect(toHex(buildReply({ ...base, executionTimeUs: 300 }))).toBe(toHex(ECHO_REPLY));
    expect(toHex(buildReply({ ...base, executionTimeUs: 7, body: new TextEncoder().encode('20250323') }))).toBe(toHex(VERSION_REPLY));
  });

  it('defaults to zeros, frame count 1 and no body; an empty body still carries its terminator', () => {
    expect(toHex(buildReply({ raidaId: 1, status: 242 }))).toBe(toHex(fromHex('01 00 F2 00 00 01' + '00'.repeat(26))));
    const empty = buildReply({ raidaId: 1, status: 250, body: new Uint8Array(0) });
    expect(empty).toHaveLength(34);
    expect(parseReply(empty).body).toEqual(new Uint8Array(0));
  });

  it('rejects fields that do not fit', () => {
    const cases: [Parameters<typeof buildReply>[0], string][] = [
      [{ raidaId: 256, status: 250 }, 'raidaId'],
      [{ raidaId: 0, status: -1 }, 'status'],
      [{ raidaId: 0, status: 250, echo: new Uint8Array(1) }, 'echo'],
      [{ raidaId: 0, status: 250, signature: new Uint8Array(17) }, 'signature'],
      [{ raidaId: 0, status: 250, executionTimeUs: 2 ** 32 }, 'executionTimeUs'],
      [{ raidaId: 0, status: 250, headerLength: 40 }, 'headerLength'],
      [{ raidaId: 0, status: 250, headerLength: 48, body: new Uint8Array(1) }, 'headerLength'],
    ];
    for (const [init, option] of cases)
      expect(expectXError(() => buildReply(init), 'RAIDA_INVALID_OPTION', 'config').context).toEqual({ option });
  });
});

describe('buildReplyForRequest (server side)', () => {
  it('answers an accepted echo with its echo bytes, command group and challenge', () => {
    const request = accepted(buildEchoRequest({ raidaId: 3, echo: ECHO, random: () => R }).bytes);
    expect(toHex(buildReplyForRequest(request, { status: 250, executionTimeUs: 300 }))).toBe(toHex(ECHO_REPLY));
    expectXError(() => buildReplyForRequest(request), 'RAIDA_INVALID_OPTION', 'config');
  });

  it('answers header errors, 16 and 33 with the stale fields it is given (zeros by default)', () => {
    const request = buildEchoRequest({ raidaId: 4, echo: ECHO, random: () => R }).bytes;
    const rejection = rejected(request);
    expect(rejection.status).toBe(3);
    const stale = { commandGroup: 1, echo: fromHex('11 22'), signature: new Uint8Array(16).fill(0x77) };
    const reply = parseReply(buildReplyForRequest(rejection, { stale }));
    expect(reply).toMatchObject({ raidaId: 3, status: 3, commandGroup: 1, echo: stale.echo, signature: stale.signature });
    const zeros = parseReply(buildReplyForRequest(rejection));
    expect(zeros).toMatchObject({ raidaId: 3, status: 3, commandGroup: 0, echo: new Uint8Array(2), signature: new Uint8Array(16) });
  });

  it('answers a 37 with fresh echo bytes and the challenge as sent', () => {
    const bytes = buildEchoRequest({ raidaId: 3, echo: ECHO, challenge: new Uint8Array(16).fill(0xee) }).bytes;
    const reply = parseReply(buildReplyForRequest(rejected(bytes)));
    expect(reply).toMatchObject({ status: 37, echo: ECHO, signature: new Uint8Array(16).fill(0xee) });
  });

  it('encrypts a type-1 reply body continuing the request counter, or restarting it, like Node aes-128-ctr', () => {
    const built = buildVersionRequest({
      raidaId: 3,
      echo: ECHO,
      nonce: NONCE,
      random: () => R,
      encryption: { type: 1, keyCoin: KEY_COIN },
    });
    const request = accepted(built.bytes, () => AN);
    const version = new TextEncoder().encode('20250323');
    const iv = Buffer.concat([Buffer.from(built.bytes.subarray(24, 32)), Buffer.alloc(8)]);
    const stream = createCipheriv('aes-128-ctr', Buffer.from(AN), iv).update(Buffer.alloc(32));
    const xorWith = (offset: number) => Uint8Array.from(version, (byte, i) => byte ^ (stream[offset + i] ?? 0));

    const continued = parseReply(buildReplyForRequest(request, { status: 250, body: version }));
    expect(toHex(continued.body!)).toBe(toHex(xorWith(16)));
    expect(toHex(continued.signature)).toBe(toHex(fromHex('00 10 20 30 40 50 60 70 80 90 A0 B0 5E AD 27 9A')));
    const restarted = parseReply(buildReplyForRequest(request, { status: 250, body: version, replyCounter: 'restart' }));
    expect(toHex(restarted.body!)).toBe(toHex(xorWith(0)));
  });
});
