import { EMPTY_BYTES, copyRange, isIntegerInRange, readU16, readU24, readU32, writeU16, writeU24, writeU32 } from './bytes.js';
import { CHALLENGE_LENGTH } from './challenge.js';
import { aes128Ctr, counterBlockFromNonce, replyCounterBlock } from './crypto.js';
import type { ReplyCounterConvention } from './crypto.js';
import { invalidOption, protocolError } from './errors.js';
import { ECHO_LENGTH, HEADER_LENGTH, TERMINATOR_BYTE, TERMINATOR_LENGTH } from './request.js';
import type { ParsedRequest, RequestRejection } from './request-parse.js';
import { RAIDA_STATUS, hasStaleFields } from './status.js';

/** Length of the long reply header some servers send (status 27 to a request of 48 bytes or more). */
const LONG_HEADER_LENGTH = 48;
/** Largest body size the u24 field can express, terminator included. */
const MAX_REPLY_BODY_SIZE = 0xffffff;

/** A reply datagram, decoded. Byte arrays are copies. */
export interface ParsedReply {
  /** Byte 0: the responding RAIDA. */
  readonly raidaId: number;
  readonly shard: number;
  /** Byte 2. */
  readonly status: number;
  /** Byte 3 (stale on header errors, 16 and 33). */
  readonly commandGroup: number;
  /** Bytes 4–5, always 1 on current servers. */
  readonly frameCount: number;
  /** Bytes 6–7 (stale on header errors, 16 and 33). */
  readonly echo: Uint8Array;
  /** Bytes 9–11 as sent: payload + 2, or 0 without a body. */
  readonly bodySize: number;
  /** Bytes 12–15: server execution time in microseconds. */
  readonly executionTimeUs: number;
  /** Bytes 16–31 (stale on header errors, 16 and 33). */
  readonly signature: Uint8Array;
  /** 32, or 48 for the long error replies. */
  readonly headerLength: number;
  /**
   * `classic`: the 32-byte layout of this table. `modern`: the 48-byte status-27 reply, whose bytes 4–7 are the
   * execution time and byte 16 the encryption type echoed; its other fields are stale (echo and signature are
   * read from where the classic layout has them, and mean nothing).
   */
  readonly layout: 'classic' | 'modern';
  /** Bytes 32–47 of a 48-byte header; empty for a 32-byte one. */
  readonly headerExtension: Uint8Array;
  /** The body without its terminator, still encrypted for type 1; `undefined` when the reply has no body. */
  readonly body: Uint8Array | undefined;
}

/**
 * Decodes a reply datagram. Accepts 32- and 48-byte headers without a body, or a 32-byte header
 * followed by exactly `bodySize` bytes ending in `3E 3E`. Reads nothing past `bytes.length`.
 * Throws `RAIDA_REPLY_TOO_SHORT`, `RAIDA_REPLY_LENGTH_MISMATCH` or `RAIDA_REPLY_BAD_TERMINATOR` (all category protocol).
 */
export function parseReply(bytes: Uint8Array): ParsedReply {
  if (!(bytes instanceof Uint8Array)) throw protocolError('RAIDA_REPLY_TOO_SHORT', 'A reply must be a Uint8Array');
  const length = bytes.length;
  if (length < HEADER_LENGTH) {
    throw protocolError('RAIDA_REPLY_TOO_SHORT', `A reply of ${length} bytes is shorter than the ${HEADER_LENGTH}-byte header`, { length });
  }
  const status = bytes[2] ?? 0;
  if (length === LONG_HEADER_LENGTH && status === RAIDA_STATUS.invalidEncryptionType) {
    // The observed 48-byte 27 reply: status at byte 2, execution time at 4–7; bytes 9–11 are not a body size.
    return {
      raidaId: bytes[0] ?? 0,
      shard: bytes[1] ?? 0,
      status,
      commandGroup: bytes[3] ?? 0,
      frameCount: 1,
      echo: bytes.slice(6, 8),
      bodySize: 0,
      executionTimeUs: readU32(bytes, 4),
      signature: bytes.slice(16, 32),
      headerLength: LONG_HEADER_LENGTH,
      layout: 'modern',
      headerExtension: bytes.slice(HEADER_LENGTH, LONG_HEADER_LENGTH),
      body: undefined,
    };
  }
  const bodySize = readU24(bytes, 9);
  let headerLength = HEADER_LENGTH;
  let body: Uint8Array | undefined;
  if (bodySize === 0) {
    if (length !== HEADER_LENGTH && length !== LONG_HEADER_LENGTH) {
      throw protocolError('RAIDA_REPLY_LENGTH_MISMATCH', `A reply without a body must be 32 or 48 bytes, got ${length}`, {
        length,
        bodySize,
        status,
      });
    }
    headerLength = length;
  } else {
    if (bodySize < TERMINATOR_LENGTH || length !== HEADER_LENGTH + bodySize) {
      throw protocolError('RAIDA_REPLY_LENGTH_MISMATCH', `Reply body size ${bodySize} does not fit a ${length}-byte reply`, {
        length,
        bodySize,
        status,
      });
    }
    if (bytes[length - 2] !== TERMINATOR_BYTE || bytes[length - 1] !== TERMINATOR_BYTE) {
      throw protocolError('RAIDA_REPLY_BAD_TERMINATOR', 'The reply body does not end in 3E 3E', { length, bodySize, status });
    }
    body = bytes.slice(HEADER_LENGTH, length - TERMINATOR_LENGTH);
  }
  return {
    raidaId: bytes[0] ?? 0,
    shard: bytes[1] ?? 0,
    status,
    commandGroup: bytes[3] ?? 0,
    frameCount: readU16(bytes, 4),
    echo: copyRange(bytes, 6, 8),
    bodySize,
    executionTimeUs: readU32(bytes, 12),
    signature: copyRange(bytes, 16, 32),
    headerLength,
    layout: 'classic',
    headerExtension: headerLength === HEADER_LENGTH ? EMPTY_BYTES : bytes.slice(HEADER_LENGTH, headerLength),
    body,
  };
}

/** Fields of a reply to build; everything but `raidaId` and `status` has a default. */
export interface ReplyInit {
  readonly raidaId: number;
  readonly status: number;
  /** Default 0. */
  readonly shard?: number;
  /** Default 0. */
  readonly commandGroup?: number;
  /** Default 1. */
  readonly frameCount?: number;
  /** Two bytes. Default zeros. */
  readonly echo?: Uint8Array;
  /** Default 0. */
  readonly executionTimeUs?: number;
  /** Sixteen bytes. Default zeros. */
  readonly signature?: Uint8Array;
  /** Payload (the terminator is added). Default: no body. Sent as given: encrypt it first for type 1. */
  readonly body?: Uint8Array;
  /** 32 (default) or 48; a 48-byte header cannot carry a body. */
  readonly headerLength?: number;
  /** Bytes 32–47 of a 48-byte header. Default zeros. */
  readonly headerExtension?: Uint8Array;
}

function byteField(value: number | undefined, fallback: number, option: string, max = 255): number {
  const actual = value ?? fallback;
  if (!isIntegerInRange(actual, 0, max)) throw invalidOption(option, `${option} must be an integer from 0 to ${max}`);
  return actual;
}

function fixedBytes(value: Uint8Array | undefined, length: number, option: string): Uint8Array {
  if (value === undefined) return new Uint8Array(length);
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw invalidOption(option, `${option} must be a Uint8Array of ${length} bytes`);
  return value;
}

/** Encodes a reply datagram (the server side of {@link parseReply}). Throws `RAIDA_INVALID_OPTION` (config) on bad fields. */
export function buildReply(init: ReplyInit): Uint8Array {
  const raidaId = byteField(init.raidaId, 0, 'raidaId');
  const status = byteField(init.status, 0, 'status');
  const shard = byteField(init.shard, 0, 'shard');
  const commandGroup = byteField(init.commandGroup, 0, 'commandGroup');
  const frameCount = byteField(init.frameCount, 1, 'frameCount', 0xffff);
  const executionTimeUs = byteField(init.executionTimeUs, 0, 'executionTimeUs', 0xffffffff);
  const echo = fixedBytes(init.echo, ECHO_LENGTH, 'echo');
  const signature = fixedBytes(init.signature, CHALLENGE_LENGTH, 'signature');
  const headerLength = init.headerLength ?? HEADER_LENGTH;
  if (headerLength !== HEADER_LENGTH && headerLength !== LONG_HEADER_LENGTH)
    throw invalidOption('headerLength', 'headerLength must be 32 or 48');
  const { body } = init;
  if (body !== undefined) {
    if (!(body instanceof Uint8Array)) throw invalidOption('body', 'body must be a Uint8Array');
    if (headerLength !== HEADER_LENGTH) throw invalidOption('headerLength', 'a 48-byte reply header cannot carry a body');
    if (body.length + TERMINATOR_LENGTH > MAX_REPLY_BODY_SIZE)
      throw invalidOption('body', 'body is too large for the 24-bit body size field');
  }
  const extension =
    headerLength === LONG_HEADER_LENGTH
      ? fixedBytes(init.headerExtension, LONG_HEADER_LENGTH - HEADER_LENGTH, 'headerExtension')
      : undefined;

  const bodySize = body === undefined ? 0 : body.length + TERMINATOR_LENGTH;
  const out = new Uint8Array(headerLength + bodySize);
  out[0] = raidaId;
  out[1] = shard;
  out[2] = status;
  out[3] = commandGroup;
  writeU16(out, 4, frameCount);
  out.set(echo, 6);
  writeU24(out, 9, bodySize);
  writeU32(out, 12, executionTimeUs);
  out.set(signature, 16);
  if (extension !== undefined) out.set(extension, HEADER_LENGTH);
  if (body !== undefined) {
    out.set(body, HEADER_LENGTH);
    out[out.length - 2] = TERMINATOR_BYTE;
    out[out.length - 1] = TERMINATOR_BYTE;
  }
  return out;
}

/** Leftover bytes a server returns on statuses with stale fields; a simulator decides what they are. */
export interface StaleReplyFields {
  readonly commandGroup: number;
  readonly echo: Uint8Array;
  readonly signature: Uint8Array;
}

export interface ReplyForRequestOptions {
  /** Required for an accepted request; defaults to the rejection's status. */
  readonly status?: number;
  /** Plain payload; encrypted with the request's key for an accepted type-1 request. Default: no body. */
  readonly body?: Uint8Array;
  /** Default 0. */
  readonly executionTimeUs?: number;
  /** Counter convention for an encrypted body. Default `'continue'` (current servers). */
  readonly replyCounter?: ReplyCounterConvention;
  /**
   * Leftovers for statuses with stale fields: bytes 3, 6–7 and 16–31 for 255, 2–7, 16 and 33; bytes 3 and 16–31
   * for 34 (its echo bytes are fresh). Default zeros.
   */
  readonly stale?: StaleReplyFields;
}

/**
 * The 48-byte reply a RAIDAX server gives to a request of 48 bytes or more with an invalid encryption type, as
 * observed: `00 00 1B 00 ‖ execution µs (u32) ‖ 8 × 00 ‖ encryption type ‖ 31 × 00`.
 */
function invalidEncryptionTypeReply(encryptionType: number, executionTimeUs: number): Uint8Array {
  const out = new Uint8Array(LONG_HEADER_LENGTH);
  out[2] = RAIDA_STATUS.invalidEncryptionType;
  writeU32(out, 4, byteField(executionTimeUs, 0, 'executionTimeUs', 0xffffffff));
  out[16] = encryptionType;
  return out;
}

/**
 * The reply a RAIDAX server sends to a request that {@link checkRequest} accepted or rejected:
 * its own id, the request's echo bytes, command group and signature (or `stale` fields for header
 * errors, 16 and 33; the request's echo bytes with a stale command group and signature for 34), the body
 * encrypted for type 1, and the observed 48-byte layout for status 27 to a request of 48 bytes or more.
 */
export function buildReplyForRequest(source: ParsedRequest | RequestRejection, options: ReplyForRequestOptions = {}): Uint8Array {
  const rejection = 'status' in source ? source : undefined;
  const status = options.status ?? rejection?.status;
  if (status === undefined) throw invalidOption('status', 'status is required when replying to an accepted request');
  const { header } = source;
  const executionTimeUs = options.executionTimeUs ?? 0;

  if (status === RAIDA_STATUS.invalidEncryptionType && source.length >= LONG_HEADER_LENGTH && options.body === undefined) {
    return invalidEncryptionTypeReply(header.encryptionType, executionTimeUs);
  }
  if (hasStaleFields(status)) {
    const stale = options.stale;
    return buildReply({
      raidaId: source.respondingRaidaId,
      status,
      commandGroup: stale?.commandGroup ?? 0,
      echo: status === RAIDA_STATUS.encryptionCoinNotFound ? header.echo : stale?.echo,
      signature: stale?.signature,
      executionTimeUs,
      body: options.body,
    });
  }

  let body = options.body;
  const key = rejection === undefined ? (source as ParsedRequest).key : undefined;
  if (body !== undefined && key !== undefined && body.length > 0) {
    const start = counterBlockFromNonce(concatNonce(header.nonce, header.echo));
    body = aes128Ctr(key, replyCounterBlock(start, header.bodyLength, options.replyCounter ?? 'continue'), body);
  }
  return buildReply({
    raidaId: source.respondingRaidaId,
    status,
    commandGroup: header.commandGroup,
    echo: header.echo,
    signature: source.signature,
    executionTimeUs,
    body,
  });
}

function concatNonce(nonce: Uint8Array, echo: Uint8Array): Uint8Array {
  const out = new Uint8Array(nonce.length + echo.length);
  out.set(nonce, 0);
  out.set(echo, nonce.length);
  return out;
}
