import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasCategory, isXError } from '@x/errors';
import {
  COMMANDS,
  buildDetectRequest,
  buildEchoRequest,
  buildPownRequest,
  buildReplyForRequest,
  buildVersionRequest,
  checkRequest,
  encodeVerdictBitfield,
  parseReply,
  statusInfo,
  validateReply,
} from '@x/raida-protocol';
import type { BuiltRequest, ReplyExpectation } from '@x/raida-protocol';
import { AN } from './helpers.js';

// Bounded for CI; FUZZ_RUNS scales every property here (docs/reliability.md), FC_SEED explores other inputs.
const SEED = Number(process.env.FC_SEED ?? 0x5eed);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4_000);
const runs = (share = 1) => ({ numRuns: Math.max(1, Math.round(RUNS * share)), seed: SEED });
/** Large FUZZ_RUNS need more than vitest's default test timeout. */
const timeout = Math.max(20_000, RUNS / 5);

const KEY_COIN = { denomination: 0, serialNumber: 1, an: AN };
const coins = (count: number) => Array.from({ length: count }, (_, i) => ({ denomination: 1, serialNumber: 100 + i, an: AN }));
const pownCoins = (count: number) => coins(count).map((coin) => ({ ...coin, pan: AN.map((byte) => byte ^ 0xff) }));

/** One request of each command and encryption type, as a client would send it to RAIDA 7. */
const REQUESTS: readonly BuiltRequest[] = [
  buildEchoRequest({ raidaId: 7 }),
  buildEchoRequest({ raidaId: 7, encryption: { type: 1, keyCoin: KEY_COIN } }),
  buildVersionRequest({ raidaId: 7 }),
  buildDetectRequest({ raidaId: 7, coins: coins(1) }),
  buildDetectRequest({ raidaId: 7, coins: coins(9), encryption: { type: 1, keyCoin: KEY_COIN } }),
  buildPownRequest({ raidaId: 7, coins: pownCoins(3) }),
];

/**
 * What `validateReply` must conclude about `bytes`, derived from the wire reference rather than from
 * the validator: a malformed datagram is the parser's error; a status with stale fields is an error
 * outcome; otherwise the signature (for 34 the challenge as sent) must match, and only the command's
 * own success statuses can be a success or coin result.
 */
type Expected =
  | { readonly kind: 'throws'; readonly code: string }
  | { readonly kind: 'error' }
  | { readonly kind: 'accepted'; readonly status: number }
  | { readonly kind: 'accepted-or-bad-body'; readonly status: number };

function expectedOutcome(bytes: Uint8Array, expectation: ReplyExpectation): Expected {
  let reply;
  try {
    reply = parseReply(bytes);
  } catch (error) {
    return { kind: 'throws', code: isXError(error) ? error.code : 'not an XError' };
  }
  const info = statusInfo(reply.status);
  if (reply.status === 34) {
    // Stale signature, fresh echo bytes; and only ever an answer to an encrypted request.
    if (expectation.encryption.type !== 1) return { kind: 'throws', code: 'RAIDA_REPLY_UNEXPECTED_STATUS' };
    return reply.echo.every((byte, i) => byte === expectation.echo[i])
      ? { kind: 'error' }
      : { kind: 'throws', code: 'RAIDA_REPLY_ECHO_MISMATCH' };
  }
  if (!info.signatureTrusted) return { kind: 'error' };
  const signature = expectation.signature;
  if (!reply.signature.every((byte, i) => byte === signature[i])) return { kind: 'throws', code: 'RAIDA_REPLY_SIGNATURE_MISMATCH' };
  if (info.kind !== 'success' && info.kind !== 'coin-result') return { kind: 'error' };
  if (!COMMANDS[expectation.command].successStatuses.includes(reply.status))
    return { kind: 'throws', code: 'RAIDA_REPLY_UNEXPECTED_STATUS' };
  // Version bodies must be ASCII and 243 bodies a bitfield: whether random bytes are is the validator's call.
  const bodyMatters = expectation.command === 'version' || reply.status === 243;
  return bodyMatters ? { kind: 'accepted-or-bad-body', status: reply.status } : { kind: 'accepted', status: reply.status };
}

function outcomeOf(
  bytes: Uint8Array,
  expectation: ReplyExpectation,
): { kind: 'throws'; code: string } | { kind: 'validated'; outcome: string; status: number; verdicts?: readonly boolean[] } {
  try {
    // The servers here continue the counter (the current convention), and the client knows it.
    const validated = validateReply(bytes, expectation, { replyCounter: 'continue' });
    return {
      kind: 'validated',
      outcome: validated.outcome,
      status: validated.status.code,
      ...(validated.outcome === 'coins' ? { verdicts: validated.verdicts } : {}),
    };
  } catch (error) {
    // Anything but a protocol XError is a crash of the validator: let it fail the property as it is.
    if (!hasCategory(error, 'protocol')) throw error;
    return { kind: 'throws', code: error.code };
  }
}

const INTERESTING_STATUSES = [250, 241, 242, 243, 34, 37, 16, 33, 255, 2, 7, 40, 0];

/**
 * Hostile datagrams: arbitrary bytes of any length, and near-valid replies whose status, signature
 * and body size are chosen to reach every branch — half of them carrying the right signature, as a
 * server that is lying (rather than a forger) would.
 */
function datagramFor(expectation: ReplyExpectation): fc.Arbitrary<Uint8Array> {
  const shaped = fc
    .record({
      header: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      status: fc.oneof(fc.constantFrom(...INTERESTING_STATUSES), fc.integer({ min: 0, max: 255 })),
      signature: fc.constantFrom('expected', 'wire', 'random', 'flipped'),
      flipAt: fc.nat({ max: 127 }),
      body: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
      sizeSkew: fc.constantFrom(0, 0, 0, -1, 1, 16),
      terminate: fc.boolean(),
    })
    .map(({ header, status, signature, flipAt, body, sizeSkew, terminate }) => {
      const bodyLength = body === undefined ? 0 : body.length + 2;
      const out = new Uint8Array(32 + bodyLength);
      out.set(header);
      out[2] = status;
      if (signature === 'expected' || signature === 'flipped') out.set(expectation.signature, 16);
      if (signature === 'wire') out.set(expectation.wireChallenge, 16);
      if (signature === 'flipped') out[16 + (flipAt >> 3)]! ^= 1 << (flipAt & 7);
      const declared = Math.max(0, bodyLength + sizeSkew);
      out.set([declared >> 16, (declared >> 8) & 0xff, declared & 0xff], 9);
      if (body !== undefined) {
        out.set(body, 32);
        if (terminate) out.set([0x3e, 0x3e], out.length - 2);
      }
      return out;
    });
  return fc.oneof(fc.uint8Array({ maxLength: 200 }), shaped, shaped);
}

describe('validateReply against hostile datagrams, with real expectations', () => {
  it(
    'accepts a datagram only with the right signature and a status that answers the command; anything else is a protocol XError or an error outcome',
    { timeout },
    () => {
      const seen = { accepted: 0, mismatch: 0, error: 0, malformed: 0 };
      for (const request of REQUESTS) {
        const { expectation } = request;
        fc.assert(
          fc.property(datagramFor(expectation), (datagram) => {
            const expected = expectedOutcome(datagram, expectation);
            const actual = outcomeOf(datagram, expectation);
            switch (expected.kind) {
              case 'throws':
                expect(actual).toEqual({ kind: 'throws', code: expected.code });
                if (expected.code === 'RAIDA_REPLY_SIGNATURE_MISMATCH') seen.mismatch++;
                else seen.malformed++;
                break;
              case 'error':
                expect(actual).toMatchObject({ kind: 'validated', outcome: 'error' });
                seen.error++;
                break;
              case 'accepted':
              case 'accepted-or-bad-body':
                if (actual.kind === 'throws') {
                  expect(expected.kind).toBe('accepted-or-bad-body');
                  expect(actual.code).toBe('RAIDA_REPLY_BAD_BODY');
                  break;
                }
                expect(actual.outcome).toBe(expected.status === 250 ? 'success' : 'coins');
                expect(actual.status).toBe(expected.status);
                if (actual.verdicts !== undefined) {
                  expect(actual.verdicts).toHaveLength(expectation.coinCount);
                  if (expected.status === 241) expect(actual.verdicts.every(Boolean)).toBe(true);
                  if (expected.status === 242) expect(actual.verdicts.some(Boolean)).toBe(false);
                }
                seen.accepted++;
                break;
            }
          }),
          runs(1 / REQUESTS.length),
        );
      }
      // The generator must reach every branch, or the property proves less than it says.
      expect(Math.min(seen.accepted, seen.mismatch, seen.error, seen.malformed)).toBeGreaterThan(0);
    },
  );

  it('never accepts a reply whose signature differs from the request’s in any one bit', { timeout }, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REQUESTS),
        fc.nat({ max: 127 }),
        fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
        (request, bit, verdicts) => {
          const check = checkRequest(request.bytes, { raidaId: 7, keyFor: () => AN });
          if (check.outcome !== 'accepted') throw new Error(`the server rejected a valid request: ${check.outcome}`);
          const { command, coinCount } = request.expectation;
          const mine = verdicts.slice(0, coinCount);
          const status = coinCount === 0 ? 250 : mine.every(Boolean) ? 241 : mine.some(Boolean) ? 243 : 242;
          const body =
            command === 'version' ? new TextEncoder().encode('20250323') : status === 243 ? encodeVerdictBitfield(mine) : undefined;
          const genuine = buildReplyForRequest(check.request, { status, body });
          expect(outcomeOf(genuine, request.expectation)).toMatchObject({ kind: 'validated', status });

          const forged = genuine.slice();
          forged[16 + (bit >> 3)]! ^= 1 << (bit & 7);
          expect(outcomeOf(forged, request.expectation)).toEqual({ kind: 'throws', code: 'RAIDA_REPLY_SIGNATURE_MISMATCH' });
        },
      ),
      runs(0.25),
    );
  });

  it('never accepts a genuine reply cut short or padded: every other length is a malformed datagram', { timeout }, () => {
    const request = REQUESTS[4]!; // encrypted detect of 9 coins: a 243 reply with a body
    const check = checkRequest(request.bytes, { raidaId: 7, keyFor: () => AN });
    if (check.outcome !== 'accepted') throw new Error('the server rejected a valid request');
    const verdicts = [true, false, true, true, false, false, true, true, false];
    const genuine = buildReplyForRequest(check.request, { status: 243, body: encodeVerdictBitfield(verdicts) });
    expect(outcomeOf(genuine, request.expectation)).toEqual({ kind: 'validated', outcome: 'coins', status: 243, verdicts });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: genuine.length + 300 }).filter((length) => length !== genuine.length),
        fc.uint8Array({ minLength: 300, maxLength: 300 }),
        (length, padding) => {
          const datagram = new Uint8Array(length);
          datagram.set(genuine.subarray(0, Math.min(length, genuine.length)));
          if (length > genuine.length) datagram.set(padding.subarray(0, length - genuine.length), genuine.length);
          const actual = outcomeOf(datagram, request.expectation);
          expect(actual.kind).toBe('throws');
          expect(['RAIDA_REPLY_TOO_SHORT', 'RAIDA_REPLY_LENGTH_MISMATCH', 'RAIDA_REPLY_BAD_TERMINATOR']).toContain(
            actual.kind === 'throws' ? actual.code : '',
          );
        },
      ),
      runs(0.1),
    );
  });
});
