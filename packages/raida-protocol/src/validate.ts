import { bytesEqual } from './bytes.js';
import { bitfieldLength, decodeVerdictBitfield } from './coins.js';
import { COMMANDS } from './commands.js';
import { aes128Ctr, replyCounterBlock } from './crypto.js';
import type { ReplyCounterConvention } from './crypto.js';
import { protocolError } from './errors.js';
import { parseReply } from './reply.js';
import type { ParsedReply } from './reply.js';
import type { ReplyExpectation } from './request.js';
import { RAIDA_STATUS, statusInfo } from './status.js';
import type { StatusInfo } from './status.js';

export interface ValidateReplyOptions {
  /**
   * Counter convention of an encrypted (type 1) reply body. `'auto'` (default) decrypts under both and keeps the
   * one that gives a well-formed body; when both do, the reply cannot tell them apart and validation throws
   * `RAIDA_REPLY_COUNTER_AMBIGUOUS` rather than guess. Learn a server's convention once (e.g. from a type-1
   * version reply, whose body is printable ASCII) and pass it.
   */
  readonly replyCounter?: ReplyCounterConvention | 'auto';
}

interface ValidatedBase {
  readonly status: StatusInfo;
  readonly reply: ParsedReply;
}

/**
 * One server's answer, after validation:
 * - `success`: status 250 with a matching signature. `body` is decrypted; `version` is set for the version command.
 * - `coins`: 241, 242 or 243 with a matching signature; one verdict per coin sent (`true` = authentic).
 * - `error`: any other status. `staleFields` is true for header errors, 16, 27, 33 and 34, whose
 *   signature belongs to an older request and was not checked (34: its echo bytes were).
 */
export type ValidatedReply =
  | (ValidatedBase & {
      readonly outcome: 'success';
      readonly body: Uint8Array;
      readonly version: string | undefined;
      /** Counter convention that decrypted the body; `undefined` for type 0 or no body. */
      readonly replyCounter: ReplyCounterConvention | undefined;
    })
  | (ValidatedBase & {
      readonly outcome: 'coins';
      readonly verdicts: readonly boolean[];
      readonly replyCounter: ReplyCounterConvention | undefined;
    })
  | (ValidatedBase & { readonly outcome: 'error'; readonly staleFields: boolean });

function isPrintableAscii(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (const byte of bytes) if (byte < 0x20 || byte > 0x7e) return false;
  return true;
}

function isMixedBitfield(bytes: Uint8Array, count: number): boolean {
  if (bytes.length !== bitfieldLength(count)) return false;
  const unused = count % 8 === 0 ? 0 : (0xff << (count % 8)) & 0xff;
  if (((bytes[bytes.length - 1] ?? 0) & unused) !== 0) return false;
  const verdicts = decodeVerdictBitfield(bytes, count);
  return verdicts.includes(true) && verdicts.includes(false);
}

function decryptBody(
  body: Uint8Array,
  expectation: ReplyExpectation,
  preference: ReplyCounterConvention | 'auto',
  wellFormed: ((plain: Uint8Array) => boolean) | undefined,
): { plain: Uint8Array; replyCounter: ReplyCounterConvention | undefined } {
  const encryption = expectation.encryption;
  if (encryption.type === 0 || body.length === 0) return { plain: body, replyCounter: undefined };
  if (wellFormed === undefined) {
    // A body nothing is read from (an echo's): decrypted as the current servers do, and no convention claimed.
    const convention = preference === 'auto' ? 'continue' : preference;
    const plain = aes128Ctr(encryption.key, replyCounterBlock(encryption.counterBlock, encryption.requestBodyLength, convention), body);
    return { plain, replyCounter: preference === 'auto' ? undefined : preference };
  }
  const conventions: readonly ReplyCounterConvention[] = preference === 'auto' ? ['continue', 'restart'] : [preference];
  const candidates = conventions.map((convention) => ({
    replyCounter: convention,
    plain: aes128Ctr(encryption.key, replyCounterBlock(encryption.counterBlock, encryption.requestBodyLength, convention), body),
  }));
  const fitting = candidates.filter((candidate) => wellFormed(candidate.plain));
  if (fitting.length > 1) {
    throw protocolError(
      'RAIDA_REPLY_COUNTER_AMBIGUOUS',
      `Reply from RAIDA ${expectation.raidaId} reads as a well-formed body under both counter conventions; its convention is not known`,
      { raidaId: expectation.raidaId, command: expectation.command, bodyLength: body.length },
    );
  }
  // When no convention yields a well-formed body, the first is returned and the caller's own checks reject it.
  return fitting[0] ?? (candidates[0] as { plain: Uint8Array; replyCounter: ReplyCounterConvention });
}

/**
 * Parses and validates one reply against the request it answers, exactly as the wire reference says:
 * the status is read from byte 2; for every status except header errors (255, 2–7), 16, 27 and 33 the
 * signature (bytes 16–31) must equal `expectation.signature`, except for 34 (key coin not found), whose
 * signature is stale and whose echo bytes must be the request's. A reply that fails that check is never a
 * success. The caller must already have matched the reply's source address and port to the request's target.
 *
 * Throws an `XError` of category `protocol`:
 * `RAIDA_REPLY_TOO_SHORT`, `RAIDA_REPLY_LENGTH_MISMATCH`, `RAIDA_REPLY_BAD_TERMINATOR` (malformed datagram),
 * `RAIDA_REPLY_SIGNATURE_MISMATCH` (spoofed, misrouted or answering another request),
 * `RAIDA_REPLY_ECHO_MISMATCH` (a 34 whose echo bytes are not the request's),
 * `RAIDA_REPLY_UNEXPECTED_STATUS` (a success status that does not belong to the command, e.g. 241 to an echo),
 * `RAIDA_REPLY_BAD_BODY` (a 243 bitfield or a version body that is missing or malformed),
 * `RAIDA_REPLY_COUNTER_AMBIGUOUS` (`replyCounter: 'auto'` and an encrypted body well-formed under both conventions).
 */
export function validateReply(bytes: Uint8Array, expectation: ReplyExpectation, options: ValidateReplyOptions = {}): ValidatedReply {
  const reply = parseReply(bytes);
  const status = statusInfo(reply.status);
  const context = { status: reply.status, raidaId: expectation.raidaId, command: expectation.command };
  if (reply.status === RAIDA_STATUS.encryptionCoinNotFound) {
    // A server without the key coin cannot compute `challenge XOR key`: its signature is stale, its echo bytes fresh.
    if (expectation.encryption.type !== 1) {
      throw protocolError(
        'RAIDA_REPLY_UNEXPECTED_STATUS',
        `Status 34 (encryptionCoinNotFound) is not an answer to an unencrypted request`,
        context,
      );
    }
    if (!bytesEqual(reply.echo, expectation.echo)) {
      throw protocolError(
        'RAIDA_REPLY_ECHO_MISMATCH',
        `Status-34 reply from RAIDA ${expectation.raidaId} does not carry the echo bytes of its request`,
        context,
      );
    }
    return { outcome: 'error', status, reply, staleFields: true };
  }
  if (!status.signatureTrusted) return { outcome: 'error', status, reply, staleFields: true };
  if (!bytesEqual(reply.signature, expectation.signature)) {
    throw protocolError(
      'RAIDA_REPLY_SIGNATURE_MISMATCH',
      `Reply from RAIDA ${expectation.raidaId} (status ${reply.status}) does not carry the signature of its ${expectation.command} request`,
      context,
    );
  }
  if (status.kind !== 'success' && status.kind !== 'coin-result') return { outcome: 'error', status, reply, staleFields: false };

  const spec = COMMANDS[expectation.command];
  if (!spec.successStatuses.includes(reply.status)) {
    throw protocolError(
      'RAIDA_REPLY_UNEXPECTED_STATUS',
      `Status ${reply.status} (${status.name}) is not an answer to ${spec.name}`,
      context,
    );
  }
  const preference = options.replyCounter ?? 'auto';

  if (status.kind === 'success') {
    const isVersion = spec.name === 'version';
    const { plain, replyCounter } = decryptBody(
      reply.body ?? new Uint8Array(0),
      expectation,
      preference,
      isVersion ? isPrintableAscii : undefined,
    );
    if (isVersion && !isPrintableAscii(plain)) {
      throw protocolError('RAIDA_REPLY_BAD_BODY', `Version reply from RAIDA ${expectation.raidaId} has no readable ASCII version`, {
        ...context,
        bodyLength: plain.length,
      });
    }
    return {
      outcome: 'success',
      status,
      reply,
      body: plain,
      version: isVersion ? new TextDecoder().decode(plain) : undefined,
      replyCounter,
    };
  }

  const count = expectation.coinCount;
  if (reply.status === RAIDA_STATUS.allPass || reply.status === RAIDA_STATUS.allFail) {
    return {
      outcome: 'coins',
      status,
      reply,
      verdicts: new Array<boolean>(count).fill(reply.status === RAIDA_STATUS.allPass),
      replyCounter: undefined,
    };
  }
  if (reply.body === undefined) {
    throw protocolError('RAIDA_REPLY_BAD_BODY', `Mixed reply from RAIDA ${expectation.raidaId} has no bitfield`, {
      ...context,
      coinCount: count,
    });
  }
  const { plain, replyCounter } = decryptBody(reply.body, expectation, preference, (candidate) => isMixedBitfield(candidate, count));
  if (expectation.encryption.type === 1 && !isMixedBitfield(plain, count)) {
    throw protocolError(
      'RAIDA_REPLY_BAD_BODY',
      `Mixed reply from RAIDA ${expectation.raidaId} does not decrypt to a mixed bitfield for ${count} coins`,
      {
        ...context,
        coinCount: count,
        bodyLength: plain.length,
      },
    );
  }
  return { outcome: 'coins', status, reply, verdicts: decodeVerdictBitfield(plain, count), replyCounter };
}
