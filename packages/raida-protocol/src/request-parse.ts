import { isIntegerInRange, readI8, readU16, readU32 } from './bytes.js';
import { CHALLENGE_LENGTH, isValidChallenge } from './challenge.js';
import { decodeDetectCoins, decodePownCoins } from './coins.js';
import type { Coin, CoinId, PownCoin } from './coins.js';
import { commandByCode } from './commands.js';
import { aes128Ctr, counterBlockFromNonce, KEY_LENGTH, xorBytes } from './crypto.js';
import { invalidOption, protocolError } from './errors.js';
import { DEFAULT_COIN_ID, HEADER_LENGTH, MAX_REQUEST_LENGTH, MIN_BODY_LENGTH, TERMINATOR_BYTE } from './request.js';
import { RAIDA_STATUS } from './status.js';

/** The 32 header bytes of a request, decoded. */
export interface RequestHeader {
  /** Byte 0, version/routing; must be 1. */
  readonly routing: number;
  readonly splitId: number;
  /** Byte 2: the RAIDA the request is meant for. */
  readonly raidaId: number;
  readonly shard: number;
  readonly commandGroup: number;
  readonly command: number;
  readonly coinId: number;
  readonly encryptionType: number;
  /** Key coin denomination (int8), byte 17. */
  readonly keyDenomination: number;
  /** Key coin serial number (u32), bytes 18–21. */
  readonly keySerialNumber: number;
  /** Bytes after the header, terminator included. */
  readonly bodyLength: number;
  /** Bytes 24–29. */
  readonly nonce: Uint8Array;
  /** Bytes 30–31. */
  readonly echo: Uint8Array;
}

/** Decodes request bytes 0–31. Throws `RAIDA_REQUEST_MALFORMED` (protocol) for fewer than 32 bytes. */
export function parseRequestHeader(bytes: Uint8Array): RequestHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_LENGTH) {
    throw protocolError('RAIDA_REQUEST_MALFORMED', `A request needs a ${HEADER_LENGTH}-byte header`, {
      length: bytes instanceof Uint8Array ? bytes.length : undefined,
    });
  }
  return {
    routing: bytes[0] ?? 0,
    splitId: bytes[1] ?? 0,
    raidaId: bytes[2] ?? 0,
    shard: bytes[3] ?? 0,
    commandGroup: bytes[4] ?? 0,
    command: bytes[5] ?? 0,
    coinId: readU16(bytes, 6),
    encryptionType: bytes[16] ?? 0,
    keyDenomination: readI8(bytes, 17),
    keySerialNumber: readU32(bytes, 18),
    bodyLength: readU16(bytes, 22),
    nonce: bytes.slice(24, 30),
    echo: bytes.slice(30, 32),
  };
}

/** How a simulated server sees itself. */
export interface RequestCheckOptions {
  /** This server's RAIDA id; requests for another id get status 3. */
  readonly raidaId: number;
  /** Network coin id accepted. Default 6. */
  readonly coinId?: number;
  /** Datagram size limit. Default 1024; longer datagrams get status 16. */
  readonly maxLength?: number;
  /** The AN this RAIDA holds for an encryption key coin, or `undefined` when it has none (status 34). */
  readonly keyFor?: (keyCoin: CoinId) => Uint8Array | undefined;
}

interface ParsedRequestBase {
  readonly header: RequestHeader;
  /** Datagram length as received. */
  readonly length: number;
  /** This server's id (what goes into reply byte 0). */
  readonly respondingRaidaId: number;
  /** The decrypted challenge; `undefined` only for an echo or version with body length 0. */
  readonly challenge: Uint8Array | undefined;
  /** Decrypted command payload: the bytes between the challenge and the terminator. */
  readonly payload: Uint8Array;
  /** The key (AN of the key coin) for encryption type 1. */
  readonly key: Uint8Array | undefined;
  /** Reply bytes 16–31: the challenge, or `challenge XOR key` for type 1 (zeros when there is no challenge). */
  readonly signature: Uint8Array;
}

/** A request a server accepts, decrypted and decoded. */
export type ParsedRequest =
  | (ParsedRequestBase & { readonly command: 'echo' | 'version' })
  | (ParsedRequestBase & { readonly command: 'detect'; readonly coins: readonly Coin[] })
  | (ParsedRequestBase & { readonly command: 'pown'; readonly coins: readonly PownCoin[] });

/** A request a server answers with an error status. */
export interface RequestRejection {
  readonly status: number;
  /** Why, in words. */
  readonly reason: string;
  readonly header: RequestHeader;
  readonly length: number;
  readonly respondingRaidaId: number;
  /**
   * Reply bytes 16–31 when the status' fields are fresh: the challenge as it arrived (decrypted and
   * XORed with the key when the key is known). Meaningless for header errors, 16 and 33.
   */
  readonly signature: Uint8Array;
}

/**
 * What a RAIDAX server does with a datagram: `accepted` (run the command), `rejected` (reply with
 * `rejection.status`) or `ignored` (no reply at all: shorter than a header).
 */
export type RequestCheck =
  | { readonly outcome: 'accepted'; readonly request: ParsedRequest }
  | { readonly outcome: 'rejected'; readonly rejection: RequestRejection }
  | { readonly outcome: 'ignored'; readonly reason: string };

function rawSignature(bytes: Uint8Array): Uint8Array {
  const signature = new Uint8Array(CHALLENGE_LENGTH);
  signature.set(bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + CHALLENGE_LENGTH));
  return signature;
}

/**
 * Checks a request datagram in the order a RAIDAX server does: header fields (255, 2, 3, 4, 5, 6, 7),
 * size and body length (16), encryption type (27), key coin (34), terminator (33), challenge CRC (37),
 * coin records (39). Type-1 bodies are decrypted with `keyFor`. Never throws for any input bytes;
 * throws `RAIDA_INVALID_OPTION` (config) only for bad options or a `keyFor` that returns a non-16-byte key.
 * Only the catalogue commands are known; any other command in a valid group gets status 6.
 */
export function checkRequest(bytes: Uint8Array, options: RequestCheckOptions): RequestCheck {
  const serverId = options.raidaId;
  if (!isIntegerInRange(serverId, 0, 255)) throw invalidOption('raidaId', 'raidaId must be an integer from 0 to 255');
  const coinId = options.coinId ?? DEFAULT_COIN_ID;
  if (!isIntegerInRange(coinId, 0, 0xffff)) throw invalidOption('coinId', 'coinId must be an integer from 0 to 65535');
  const maxLength = options.maxLength ?? MAX_REQUEST_LENGTH;
  if (!isIntegerInRange(maxLength, HEADER_LENGTH, Number.MAX_SAFE_INTEGER)) {
    throw invalidOption('maxLength', `maxLength must be an integer of at least ${HEADER_LENGTH}`);
  }

  if (!(bytes instanceof Uint8Array)) throw invalidOption('bytes', 'A request must be a Uint8Array');
  if (bytes.length < HEADER_LENGTH) return { outcome: 'ignored', reason: `datagram of ${bytes.length} bytes is shorter than a header` };
  const header = parseRequestHeader(bytes);
  const reject = (status: number, reason: string, signature: Uint8Array = rawSignature(bytes)): RequestCheck => ({
    outcome: 'rejected',
    rejection: { status, reason, header, length: bytes.length, respondingRaidaId: serverId, signature },
  });

  if (header.routing !== 1) return reject(RAIDA_STATUS.invalidRouting, `routing byte is ${header.routing}, not 1`);
  if (header.splitId !== 0) return reject(RAIDA_STATUS.invalidSplitId, `split id is ${header.splitId}, not 0`);
  if (header.raidaId !== serverId)
    return reject(RAIDA_STATUS.invalidRaidaId, `request is for RAIDA ${header.raidaId}, this is RAIDA ${serverId}`);
  if (header.shard > 3) return reject(RAIDA_STATUS.invalidShardId, `shard ${header.shard} is over 3`);
  if (header.commandGroup > 15) return reject(RAIDA_STATUS.invalidCommandGroup, `command group ${header.commandGroup} is over 15`);
  const spec = commandByCode(header.commandGroup, header.command);
  if (spec === undefined) return reject(RAIDA_STATUS.invalidCommand, `unknown command ${header.commandGroup}/${header.command}`);
  if (header.coinId !== coinId) return reject(RAIDA_STATUS.invalidCoinId, `coin id ${header.coinId} is not ${coinId}`);

  if (bytes.length > maxLength)
    return reject(RAIDA_STATUS.invalidPacketLength, `datagram of ${bytes.length} bytes is over the ${maxLength}-byte limit`);
  const { bodyLength } = header;
  if (HEADER_LENGTH + bodyLength > bytes.length) {
    return reject(RAIDA_STATUS.invalidPacketLength, `body length ${bodyLength} runs past the ${bytes.length}-byte datagram`);
  }
  if (bodyLength === 0) {
    // No challenge at all: real servers run echo/version anyway with a meaningless signature.
    if (spec.coinRecordLength > 0)
      return reject(RAIDA_STATUS.invalidCoinBodyLength, `a ${spec.name} request without a body carries no coins`);
    return {
      outcome: 'accepted',
      request: {
        command: spec.name as 'echo' | 'version',
        header,
        length: bytes.length,
        respondingRaidaId: serverId,
        challenge: undefined,
        payload: new Uint8Array(0),
        key: undefined,
        signature: new Uint8Array(CHALLENGE_LENGTH),
      },
    };
  }
  if (bodyLength < MIN_BODY_LENGTH)
    return reject(RAIDA_STATUS.invalidPacketLength, `body length ${bodyLength} is under ${MIN_BODY_LENGTH}`);
  if (header.encryptionType !== 0 && header.encryptionType !== 1) {
    return reject(RAIDA_STATUS.invalidEncryptionType, `encryption type ${header.encryptionType} is not supported`);
  }

  let key: Uint8Array | undefined;
  if (header.encryptionType === 1) {
    const found = options.keyFor?.({ denomination: header.keyDenomination, serialNumber: header.keySerialNumber });
    if (found === undefined) return reject(RAIDA_STATUS.encryptionCoinNotFound, 'the encryption key coin is not known here');
    if (!(found instanceof Uint8Array) || found.length !== KEY_LENGTH) {
      throw invalidOption('keyFor', `keyFor must return a ${KEY_LENGTH}-byte AN or undefined`);
    }
    key = found.slice();
  }

  const bodyEnd = HEADER_LENGTH + bodyLength;
  if (bytes[bodyEnd - 2] !== TERMINATOR_BYTE || bytes[bodyEnd - 1] !== TERMINATOR_BYTE) {
    return reject(RAIDA_STATUS.invalidEndOfPacket, 'the body does not end in 3E 3E');
  }

  const sealed = bytes.subarray(HEADER_LENGTH, bodyEnd - 2);
  const plain = key === undefined ? sealed.slice() : aes128Ctr(key, counterBlockFromNonce(bytes.subarray(24, 32)), sealed);
  const challenge = plain.slice(0, CHALLENGE_LENGTH);
  const signature = key === undefined ? challenge.slice() : xorBytes(challenge, key);
  if (!isValidChallenge(challenge)) return reject(RAIDA_STATUS.invalidCrc, 'the challenge CRC does not match', signature);

  const payload = plain.slice(CHALLENGE_LENGTH);
  const base = { header, length: bytes.length, respondingRaidaId: serverId, challenge, payload, key, signature };
  if (spec.coinRecordLength === 0) return { outcome: 'accepted', request: { ...base, command: spec.name as 'echo' | 'version' } };
  if (payload.length === 0 || payload.length % spec.coinRecordLength !== 0) {
    return reject(
      RAIDA_STATUS.invalidCoinBodyLength,
      `a ${spec.name} payload of ${payload.length} bytes is not a whole number of ${spec.coinRecordLength}-byte coins`,
      signature,
    );
  }
  return spec.name === 'detect'
    ? { outcome: 'accepted', request: { ...base, command: 'detect', coins: decodeDetectCoins(payload) } }
    : { outcome: 'accepted', request: { ...base, command: 'pown', coins: decodePownCoins(payload) } };
}
