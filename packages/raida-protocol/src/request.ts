import { writeU16, writeU32, isIntegerInRange, concatBytes, copyRange } from './bytes.js';
import { CHALLENGE_LENGTH, CHALLENGE_RANDOM_LENGTH, createChallenge } from './challenge.js';
import { assertCoin, encodeDetectCoins, encodePownCoins } from './coins.js';
import type { Coin, PownCoin } from './coins.js';
import { COMMANDS } from './commands.js';
import type { CommandName, CommandSpec } from './commands.js';
import { crc32 } from './crc32.js';
import { aes128Ctr, counterBlockFromNonce, xorBytes } from './crypto.js';
import { invalidInput, invalidOption } from './errors.js';
import { drawInto, randomBytes } from './random.js';
import type { RandomSource } from './random.js';

/** Length of a request header and of an ordinary reply header. */
export const HEADER_LENGTH = 32;
/** Default largest request datagram; servers truncate longer ones and answer status 16. */
export const MAX_REQUEST_LENGTH = 1024;
/** Coin id of the CloudCoin network (request bytes 6–7). */
export const DEFAULT_COIN_ID = 6;
/** Length of the echo bytes (request bytes 30–31, reply bytes 6–7). */
export const ECHO_LENGTH = 2;
/** Length of the nonce in request bytes 24–29; for type 1 the echo bytes complete the 8-byte counter nonce. */
const NONCE_LENGTH = 6;
/** Length of the body terminator `3E 3E`. */
export const TERMINATOR_LENGTH = 2;
/** Value of each terminator byte. */
export const TERMINATOR_BYTE = 0x3e;
/** Body length without coins: challenge (16) + terminator (2). */
export const MIN_BODY_LENGTH = CHALLENGE_LENGTH + TERMINATOR_LENGTH;

/** Encryption of a request: type 0 (plain) or type 1 (AES-128-CTR keyed by the AN of a key coin on this RAIDA). */
export type RequestEncryption = { readonly type: 0 } | { readonly type: 1; readonly keyCoin: Coin };

export interface RequestOptions {
  /** Target RAIDA id, written to byte 2 (0–24 on the public network; any byte is accepted). */
  readonly raidaId: number;
  /** Network coin id (bytes 6–7). Default 6, the CloudCoin network. */
  readonly coinId?: number;
  /** Two echo bytes (bytes 30–31), copied into the reply. Default: random. */
  readonly echo?: Uint8Array;
  /** Six nonce bytes (24–29). Default: zeros for type 0, random for type 1. */
  readonly nonce?: Uint8Array;
  /** The 16-byte challenge. Default: a fresh one from `random`. Not CRC-checked, so invalid ones can be sent on purpose. */
  readonly challenge?: Uint8Array;
  /** Default `{ type: 0 }`. */
  readonly encryption?: RequestEncryption;
  /** Random source for the challenge, echo and nonce. Default: `globalThis.crypto.getRandomValues`. */
  readonly random?: RandomSource;
  /** Largest datagram allowed, in bytes. Default 1024. */
  readonly maxLength?: number;
}

export type RequestInput =
  | (RequestOptions & { readonly command: 'echo' | 'version' })
  | (RequestOptions & { readonly command: 'detect'; readonly coins: readonly Coin[] })
  | (RequestOptions & { readonly command: 'pown'; readonly coins: readonly PownCoin[] });

/** What a reply to a built request must look like; pass it to `validateReply`. Holds the key for type 1: keep it private. */
export interface ReplyExpectation {
  readonly raidaId: number;
  readonly command: CommandName;
  readonly coinCount: number;
  readonly challenge: Uint8Array;
  readonly echo: Uint8Array;
  /** Reply bytes 16–31: the challenge for type 0, `challenge XOR key` for type 1. */
  readonly signature: Uint8Array;
  /**
   * The 16 challenge bytes as they went on the wire (encrypted for type 1). A server that cannot
   * decrypt the request (status 34, key coin not found) signs its reply with these instead.
   */
  readonly wireChallenge: Uint8Array;
  readonly encryption: ReplyEncryption;
}

/** What is needed to decrypt a type-1 reply body. */
export type ReplyEncryption =
  | { readonly type: 0 }
  | {
      readonly type: 1;
      readonly key: Uint8Array;
      /** The request's initial counter block (header bytes 24–31 ‖ 8 zero bytes). */
      readonly counterBlock: Uint8Array;
      /** The request's body length, which fixes where a `continue`-style reply counter starts. */
      readonly requestBodyLength: number;
    };

export interface BuiltRequest {
  /** The datagram to send. */
  readonly bytes: Uint8Array;
  readonly expectation: ReplyExpectation;
}

function optionalBytes(value: Uint8Array | undefined, length: number, option: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw invalidOption(option, `${option} must be a Uint8Array of ${length} bytes`);
  return value.slice();
}

/** Largest number of coins one request of `command` can carry within `maxLength` bytes (46 detect, 26 pown at 1024). */
export function maxCoinsPerRequest(command: 'detect' | 'pown', maxLength: number = MAX_REQUEST_LENGTH): number {
  return Math.max(0, Math.floor((maxLength - HEADER_LENGTH - MIN_BODY_LENGTH) / COMMANDS[command].coinRecordLength));
}

const NO_PAYLOAD = { payload: new Uint8Array(0), coinCount: 0 } as const;

function payloadOf(input: RequestInput): { payload: Uint8Array; coinCount: number } {
  switch (input.command) {
    case 'echo':
    case 'version':
      return NO_PAYLOAD;
    case 'detect':
    case 'pown': {
      const coins: unknown = input.coins;
      if (!Array.isArray(coins) || coins.length === 0) throw invalidOption('coins', `A ${input.command} request needs at least one coin`);
      const payload = input.command === 'detect' ? encodeDetectCoins(input.coins) : encodePownCoins(input.coins);
      return { payload, coinCount: input.coins.length };
    }
  }
}

/**
 * Builds a request datagram and the expectation its reply must meet. Throws `RAIDA_INVALID_OPTION`,
 * `RAIDA_INVALID_COIN`, `RAIDA_INVALID_RANDOM` or `RAIDA_REQUEST_TOO_LARGE` (all category config).
 */
export function buildRequest(input: RequestInput): BuiltRequest {
  const spec = Object.hasOwn(COMMANDS, input.command) ? COMMANDS[input.command] : undefined;
  if (spec === undefined)
    throw invalidOption('command', `Unknown command ${JSON.stringify(input.command)}; expected echo, version, detect or pown`);
  const checked = checkRequestOptions(input);
  const { payload, coinCount } = payloadOf(input);
  const bodyLength = MIN_BODY_LENGTH + payload.length;
  checkRequestLength(spec.name, coinCount, HEADER_LENGTH + bodyLength, checked.maxLength, () =>
    spec.coinRecordLength > 0
      ? `; send at most ${maxCoinsPerRequest(spec.name as 'detect' | 'pown', checked.maxLength)} coins per request`
      : '',
  );
  if (checked.encryption.type === 0 && input.challenge === undefined && input.echo === undefined && input.nonce === undefined) {
    return buildPlainRequest(input, spec, checked.coinId, payload, coinCount, bodyLength);
  }
  return assembleRequest(spec, input, checked, payload, coinCount);
}

/** The options every request checks alike, checked: `coinId` and `maxLength` with their defaults, and `encryption`. */
export interface CheckedRequestOptions {
  readonly coinId: number;
  readonly maxLength: number;
  readonly encryption: RequestEncryption;
}

/** Checks `raidaId`, `coinId`, `maxLength` and `encryption` (`RAIDA_INVALID_OPTION`, `RAIDA_INVALID_COIN`). */
export function checkRequestOptions(options: RequestOptions): CheckedRequestOptions {
  if (!isIntegerInRange(options.raidaId, 0, 255)) throw invalidOption('raidaId', 'raidaId must be an integer from 0 to 255');
  const coinId = options.coinId ?? DEFAULT_COIN_ID;
  if (!isIntegerInRange(coinId, 0, 0xffff)) throw invalidOption('coinId', 'coinId must be an integer from 0 to 65535');
  const maxLength = options.maxLength ?? MAX_REQUEST_LENGTH;
  if (!isIntegerInRange(maxLength, HEADER_LENGTH + MIN_BODY_LENGTH, HEADER_LENGTH + 0xffff)) {
    throw invalidOption('maxLength', `maxLength must be an integer from ${HEADER_LENGTH + MIN_BODY_LENGTH} to ${HEADER_LENGTH + 0xffff}`);
  }
  const encryption: RequestEncryption = options.encryption ?? { type: 0 };
  if (encryption.type === 1) {
    assertCoin(encryption.keyCoin);
  } else if ((encryption.type as unknown) !== 0) {
    throw invalidOption('encryption', 'encryption.type must be 0 or 1');
  }
  return { coinId, maxLength, encryption };
}

/** Throws `RAIDA_REQUEST_TOO_LARGE` when a request of `length` bytes exceeds `maxLength`; what `hint` returns ends the message. */
export function checkRequestLength(command: string, coinCount: number, length: number, maxLength: number, hint?: () => string): void {
  if (length <= maxLength) return;
  throw invalidInput(
    'RAIDA_REQUEST_TOO_LARGE',
    `A ${command} request of ${coinCount} coins is ${length} bytes, over the ${maxLength}-byte limit${hint?.() ?? ''}`,
    { command, coinCount, length, maxLength },
  );
}

/**
 * The datagram of a request of `spec` carrying `payload` (header, challenge ‖ payload encrypted for type 1, terminator),
 * with `options`' challenge, echo and nonce or fresh ones, and the expectation its reply must meet.
 */
export function assembleRequest<Name extends string>(
  spec: { readonly name: Name; readonly group: number; readonly command: number },
  options: RequestOptions,
  checked: CheckedRequestOptions,
  payload: Uint8Array,
  coinCount: number,
): { readonly bytes: Uint8Array; readonly expectation: Omit<ReplyExpectation, 'command'> & { readonly command: Name } } {
  const { encryption } = checked;
  const bodyLength = MIN_BODY_LENGTH + payload.length;
  const length = HEADER_LENGTH + bodyLength;
  const challenge = optionalBytes(options.challenge, CHALLENGE_LENGTH, 'challenge') ?? createChallenge({ random: options.random });
  const echo = optionalBytes(options.echo, ECHO_LENGTH, 'echo') ?? randomBytes(options.random, ECHO_LENGTH);
  const nonce =
    optionalBytes(options.nonce, NONCE_LENGTH, 'nonce') ??
    (encryption.type === 1 ? randomBytes(options.random, NONCE_LENGTH) : new Uint8Array(NONCE_LENGTH));

  const bytes = new Uint8Array(length);
  bytes[0] = 1;
  bytes[2] = options.raidaId;
  bytes[4] = spec.group;
  bytes[5] = spec.command;
  writeU16(bytes, 6, checked.coinId);
  bytes[16] = encryption.type;
  if (encryption.type === 1) {
    bytes[17] = encryption.keyCoin.denomination & 0xff;
    writeU32(bytes, 18, encryption.keyCoin.serialNumber);
  }
  writeU16(bytes, 22, bodyLength);
  bytes.set(nonce, 24);
  bytes.set(echo, 30);

  const plainBody = concatBytes(challenge, payload);
  let replyEncryption: ReplyEncryption;
  let signature: Uint8Array;
  if (encryption.type === 1) {
    const key = encryption.keyCoin.an.slice();
    const counterBlock = counterBlockFromNonce(bytes.subarray(24, 32));
    bytes.set(aes128Ctr(key, counterBlock, plainBody), HEADER_LENGTH);
    replyEncryption = { type: 1, key, counterBlock, requestBodyLength: bodyLength };
    signature = xorBytes(challenge, key);
  } else {
    bytes.set(plainBody, HEADER_LENGTH);
    replyEncryption = { type: 0 };
    signature = challenge.slice();
  }
  bytes[length - 2] = TERMINATOR_BYTE;
  bytes[length - 1] = TERMINATOR_BYTE;

  return {
    bytes,
    expectation: {
      raidaId: options.raidaId,
      command: spec.name,
      coinCount,
      challenge,
      echo,
      signature,
      wireChallenge: bytes.slice(HEADER_LENGTH, HEADER_LENGTH + CHALLENGE_LENGTH),
      encryption: replyEncryption,
    },
  };
}

/**
 * The common case, built with the fewest allocations (a client sends 25 of these a round): type 0, with a fresh
 * challenge and echo bytes drawn straight into the datagram. The expectation holds copies of them (its signature is
 * its challenge), so changing `bytes` afterwards does not change it.
 */
function buildPlainRequest(
  input: RequestInput,
  spec: CommandSpec,
  coinId: number,
  payload: Uint8Array,
  coinCount: number,
  bodyLength: number,
): BuiltRequest {
  const length = HEADER_LENGTH + bodyLength;
  const bytes = new Uint8Array(length);
  bytes[0] = 1;
  bytes[2] = input.raidaId;
  bytes[4] = spec.group;
  bytes[5] = spec.command;
  writeU16(bytes, 6, coinId);
  writeU16(bytes, 22, bodyLength);
  drawInto(input.random, CHALLENGE_RANDOM_LENGTH, bytes, HEADER_LENGTH);
  writeU32(bytes, HEADER_LENGTH + CHALLENGE_RANDOM_LENGTH, crc32(bytes, HEADER_LENGTH, HEADER_LENGTH + CHALLENGE_RANDOM_LENGTH));
  drawInto(input.random, ECHO_LENGTH, bytes, 30);
  if (payload.length > 0) bytes.set(payload, HEADER_LENGTH + CHALLENGE_LENGTH);
  bytes[length - 2] = TERMINATOR_BYTE;
  bytes[length - 1] = TERMINATOR_BYTE;
  const challenge = copyRange(bytes, HEADER_LENGTH, HEADER_LENGTH + CHALLENGE_LENGTH);
  return {
    bytes,
    expectation: {
      raidaId: input.raidaId,
      command: spec.name,
      coinCount,
      challenge,
      echo: copyRange(bytes, 30, 32),
      signature: challenge,
      wireChallenge: challenge,
      encryption: PLAIN_REPLY,
    },
  };
}

const PLAIN_REPLY: ReplyEncryption = Object.freeze({ type: 0 });

/** An echo request (group 0, command 0). */
export function buildEchoRequest(options: RequestOptions): BuiltRequest {
  return buildRequest({ ...options, command: 'echo' });
}

/** A version request (group 0, command 1). */
export function buildVersionRequest(options: RequestOptions): BuiltRequest {
  return buildRequest({ ...options, command: 'version' });
}

/** A detect request (group 1, command 10) for one or more coins. */
export function buildDetectRequest(options: RequestOptions & { readonly coins: readonly Coin[] }): BuiltRequest {
  return buildRequest({ ...options, command: 'detect' });
}

/** A pown request (group 1, command 20). Not idempotent: never resend one blindly. */
export function buildPownRequest(options: RequestOptions & { readonly coins: readonly PownCoin[] }): BuiltRequest {
  return buildRequest({ ...options, command: 'pown' });
}
