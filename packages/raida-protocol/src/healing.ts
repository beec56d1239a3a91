import { md5 } from '@noble/hashes/legacy';
import { bytesEqual, isIntegerInRange, readI8, readU32, writeU32 } from './bytes.js';
import {
  assertCoinId,
  bitfieldLength,
  decodeDetectCoins,
  decodePownCoins,
  decodeVerdictBitfield,
  encodeDetectCoins,
  encodePownCoins,
} from './coins.js';
import type { Coin, CoinId, PownCoin } from './coins.js';
import { aes128Ctr, replyCounterBlock } from './crypto.js';
import type { ReplyCounterConvention } from './crypto.js';
import { invalidOption, protocolError } from './errors.js';
import { parseReply } from './reply.js';
import type { ParsedReply } from './reply.js';
import { checkRequest } from './request-parse.js';
import type { ParsedRequest, RequestCheckOptions, RequestHeader, RequestRejection } from './request-parse.js';
import { assembleRequest, checkRequestLength, checkRequestOptions, HEADER_LENGTH, MAX_REQUEST_LENGTH, MIN_BODY_LENGTH } from './request.js';
import type { ReplyExpectation, RequestOptions } from './request.js';
import { isCrashSafeType1BodyLength } from './safe-length.js';
import { RAIDA_STATUS, statusInfo } from './status.js';
import type { StatusInfo } from './status.js';

/** The healing commands of group 2 (shared/raida-wallet.md §2). */
export type HealingCommandName = 'get_ticket' | 'validate_ticket' | 'find' | 'fix';

export interface HealingCommandSpec {
  readonly name: HealingCommandName;
  readonly group: 2;
  readonly command: number;
  readonly description: string;
}

/** Group 2 commands by name: get_ticket 2/40, validate_ticket 2/50 (server to server), find 2/60, fix 2/80. */
const HEALING_COMMANDS: Readonly<Record<HealingCommandName, HealingCommandSpec>> = Object.freeze({
  get_ticket: Object.freeze({ name: 'get_ticket', group: 2, command: 40, description: 'A ticket naming the coins this RAIDA passes.' }),
  validate_ticket: Object.freeze({
    name: 'validate_ticket',
    group: 2,
    command: 50,
    description: 'Claims a ticket for a fixing RAIDA (sent by servers to each other).',
  }),
  find: Object.freeze({
    name: 'find',
    group: 2,
    command: 60,
    description: 'Does this RAIDA hold the AN or the PAN of each coin? Changes nothing.',
  }),
  fix: Object.freeze({
    name: 'fix',
    group: 2,
    command: 80,
    description: 'Sets new ANs from a PAN generator, when 13 other RAIDAs vouch by ticket.',
  }),
});

const HEALING_LIST: readonly HealingCommandSpec[] = Object.freeze(Object.values(HEALING_COMMANDS));

/** The healing command for request bytes 4 and 5, or `undefined`. */
export function healingCommandByCode(group: number, command: number): HealingCommandSpec | undefined {
  return HEALING_LIST.find((spec) => spec.group === group && spec.command === command);
}

/** Statuses the healing commands add to the table of `raida-protocol.md`. */
export const HEALING_STATUS = Object.freeze({
  /** validate_ticket: the claimant id is not a RAIDA (≥ 25). */
  wrongRaida: 18,
  /** get_ticket without a body. */
  noBody: 36,
  /** get_ticket: all 512 ticket slots are taken. */
  noTicketSlot: 42,
  /** validate_ticket: no such ticket. */
  ticketNotFound: 43,
  /** validate_ticket: this claimant already claimed the ticket. */
  ticketClaimed: 44,
  /** find: every coin is at neither its AN nor its PAN. */
  findNeither: 208,
  /** find: every coin is at its AN. */
  findAllAn: 209,
  /** find: every coin is at its PAN. */
  findAllPan: 210,
  /** find: mixed; body = one byte per coin (0 neither, 1 AN, 2 PAN). */
  findMixed: 211,
} as const);

/** A ticket is a u32, big-endian on the wire; 0 means "no ticket from this RAIDA". */
const TICKET_LENGTH = 4;
/** The PAN generator of a fix: 16 random bytes chosen by the client. */
export const PG_LENGTH = 16;
/** A fix carries one ticket slot per RAIDA of the network. */
export const FIX_TICKET_COUNT = 25;
/** Bytes per coin in a fix request: den (1) ‖ SN (4). */
const FIX_COIN_LENGTH = 5;
/** Body length of validate_ticket: challenge ‖ claimant id ‖ ticket ‖ terminator. */
const VALIDATE_TICKET_BODY_LENGTH = 23;
/** A fix's peer votes: a coin is fixed when more than 13 votes (its own plus 13 peers) are counted. */
export const FIX_PEER_VOTES_NEEDED = 13;

/** Request body length of a healing command for `coinCount` coins (§2.0): 18 + 21n, 23, 18 + 37n, 134 + 5n. */
export function healingBodyLength(command: HealingCommandName, coinCount: number): number {
  switch (command) {
    case 'get_ticket':
      return MIN_BODY_LENGTH + 21 * coinCount;
    case 'validate_ticket':
      return VALIDATE_TICKET_BODY_LENGTH;
    case 'find':
      return MIN_BODY_LENGTH + 37 * coinCount;
    case 'fix':
      return MIN_BODY_LENGTH + coinCount * FIX_COIN_LENGTH + PG_LENGTH + FIX_TICKET_COUNT * TICKET_LENGTH;
  }
}

/** Most coins one request of `command` carries within `maxLength` bytes (at 1024: get_ticket 46, find 26, fix 171). */
export function maxHealingCoinsPerRequest(command: 'get_ticket' | 'find' | 'fix', maxLength: number = MAX_REQUEST_LENGTH): number {
  const room = maxLength - HEADER_LENGTH - healingBodyLength(command, 0);
  const per = command === 'get_ticket' ? 21 : command === 'find' ? 37 : FIX_COIN_LENGTH;
  return Math.max(0, Math.floor(room / per));
}

/**
 * The AN a RAIDA sets when it fixes a coin, and that the client computes for itself:
 * `MD5(raidaId (1) ‖ den (1) ‖ SN (4, big-endian) ‖ PG (16))` (RX `generate_an_hash_legacy`).
 */
export function fixedAn(raidaId: number, denomination: number, serialNumber: number, pg: Uint8Array): Uint8Array {
  if (!isIntegerInRange(raidaId, 0, 255)) throw invalidOption('raidaId', 'raidaId must be an integer from 0 to 255');
  assertCoinId({ denomination, serialNumber });
  checkPg(pg);
  const input = new Uint8Array(6 + PG_LENGTH);
  input[0] = raidaId;
  input[1] = denomination & 0xff;
  writeU32(input, 2, serialNumber);
  input.set(pg, 6);
  return md5(input);
}

function checkPg(pg: Uint8Array): void {
  if (!(pg instanceof Uint8Array) || pg.length !== PG_LENGTH) throw invalidOption('pg', `pg must be a Uint8Array of ${PG_LENGTH} bytes`);
}

function checkTicket(ticket: unknown, option: string): number {
  if (!isIntegerInRange(ticket, 0, 0xffffffff)) throw invalidOption(option, `${option} must be an integer from 0 to 4294967295`);
  return ticket;
}

/** What a reply to a healing request must look like; pass it to {@link validateHealingReply}. Holds the key for type 1. */
export interface HealingExpectation extends Omit<ReplyExpectation, 'command'> {
  readonly command: HealingCommandName;
}

export interface BuiltHealingRequest {
  readonly bytes: Uint8Array;
  readonly expectation: HealingExpectation;
}

function assemble(spec: HealingCommandSpec, payload: Uint8Array, coinCount: number, options: RequestOptions): BuiltHealingRequest {
  const checked = checkRequestOptions(options);
  const bodyLength = MIN_BODY_LENGTH + payload.length;
  checkRequestLength(spec.name, coinCount, HEADER_LENGTH + bodyLength, checked.maxLength);
  if (checked.encryption.type === 1 && !isCrashSafeType1BodyLength(bodyLength)) {
    throw invalidOption(
      'encryption',
      `A type-1 ${spec.name} request with a body of ${bodyLength} bytes would crash a RAIDAX server on AES-NI hosts ((bodyLength − 2) mod 16 is 1–6); send another number of coins or use type 0`,
    );
  }
  return assembleRequest(spec, options, checked, payload, coinCount);
}

function requireCoins(coins: unknown, command: string): void {
  if (!Array.isArray(coins) || coins.length === 0) throw invalidOption('coins', `A ${command} request needs at least one coin`);
}

/** get_ticket (2/40): `n × [den SN AN]`, each with this RAIDA's AN. Never list a coin twice: duplicates vote twice in fix. */
export function buildGetTicketRequest(options: RequestOptions & { readonly coins: readonly Coin[] }): BuiltHealingRequest {
  requireCoins(options.coins, 'get_ticket');
  return assemble(HEALING_COMMANDS.get_ticket, encodeDetectCoins(options.coins), options.coins.length, options);
}

/** find (2/60): `n × [den SN AN PAN]`. Changes nothing on the server. */
export function buildFindRequest(options: RequestOptions & { readonly coins: readonly PownCoin[] }): BuiltHealingRequest {
  requireCoins(options.coins, 'find');
  return assemble(HEALING_COMMANDS.find, encodePownCoins(options.coins), options.coins.length, options);
}

/**
 * fix (2/80): `n × [den SN] ‖ PG (16) ‖ 25 tickets (u32 BE)`, `tickets[i]` from RAIDA i or 0. Not idempotent: a sent
 * fix consumes its tickets for this RAIDA whatever the outcome, so never resend one.
 */
export function buildFixRequest(
  options: RequestOptions & { readonly coins: readonly CoinId[]; readonly pg: Uint8Array; readonly tickets: readonly number[] },
): BuiltHealingRequest {
  requireCoins(options.coins, 'fix');
  options.coins.forEach((coin, index) => assertCoinId(coin, index));
  checkPg(options.pg);
  const tickets: unknown = options.tickets;
  if (!Array.isArray(tickets) || tickets.length !== FIX_TICKET_COUNT)
    throw invalidOption('tickets', `tickets must be an array of ${FIX_TICKET_COUNT} u32 (0 for none)`);
  const n = options.coins.length;
  const payload = new Uint8Array(n * FIX_COIN_LENGTH + PG_LENGTH + FIX_TICKET_COUNT * TICKET_LENGTH);
  options.coins.forEach((coin, index) => {
    payload[index * FIX_COIN_LENGTH] = coin.denomination & 0xff;
    writeU32(payload, index * FIX_COIN_LENGTH + 1, coin.serialNumber);
  });
  payload.set(options.pg, n * FIX_COIN_LENGTH);
  options.tickets.forEach((ticket, i) =>
    writeU32(payload, n * FIX_COIN_LENGTH + PG_LENGTH + i * TICKET_LENGTH, checkTicket(ticket, `tickets[${i}]`)),
  );
  return assemble(HEALING_COMMANDS.fix, payload, n, options);
}

/** validate_ticket (2/50): `claimant RAIDA id (1) ‖ ticket (4)`. RAIDAs send it to each other during a fix. */
export function buildValidateTicketRequest(
  options: RequestOptions & { readonly claimantId: number; readonly ticket: number },
): BuiltHealingRequest {
  if (!isIntegerInRange(options.claimantId, 0, 255)) throw invalidOption('claimantId', 'claimantId must be an integer from 0 to 255');
  const payload = new Uint8Array(1 + TICKET_LENGTH);
  payload[0] = options.claimantId;
  writeU32(payload, 1, checkTicket(options.ticket, 'ticket'));
  return assemble(HEALING_COMMANDS.validate_ticket, payload, 0, options);
}

/** What a find says about one coin on one RAIDA: it holds the AN sent, the PAN sent, or neither. */
export type FindResult = 'an' | 'pan' | 'neither';

interface HealingValidatedBase {
  readonly status: StatusInfo;
  readonly reply: ParsedReply;
}

/**
 * One server's answer to a healing request, after validation:
 * - `ticket` (get_ticket 241/242/243): per-coin `passed`, and the `ticket` when any coin passed;
 * - `find` (208/209/210/211): per-coin `found`;
 * - `fix` (241/242/243): per-coin `fixed`;
 * - `claimed` (validate_ticket 250): the coins the ticket lists;
 * - `error`: any other status (`staleFields` as in `validateReply`).
 */
export type ValidatedHealingReply =
  | (HealingValidatedBase & { readonly outcome: 'ticket'; readonly passed: readonly boolean[]; readonly ticket: number | undefined })
  | (HealingValidatedBase & { readonly outcome: 'find'; readonly found: readonly FindResult[] })
  | (HealingValidatedBase & { readonly outcome: 'fix'; readonly fixed: readonly boolean[] })
  | (HealingValidatedBase & { readonly outcome: 'claimed'; readonly coins: readonly CoinId[] })
  | (HealingValidatedBase & { readonly outcome: 'error'; readonly staleFields: boolean });

const SUCCESS: Readonly<Record<HealingCommandName, readonly number[]>> = {
  get_ticket: [241, 242, 243],
  fix: [241, 242, 243],
  find: [208, 209, 210, 211],
  validate_ticket: [250],
};

function decrypt(body: Uint8Array, expectation: HealingExpectation, wellFormed: (plain: Uint8Array) => boolean): Uint8Array {
  const encryption = expectation.encryption;
  if (encryption.type === 0 || body.length === 0) return body;
  const conventions: readonly ReplyCounterConvention[] = ['continue', 'restart'];
  const candidates = conventions.map((convention) =>
    aes128Ctr(encryption.key, replyCounterBlock(encryption.counterBlock, encryption.requestBodyLength, convention), body),
  );
  return candidates.find(wellFormed) ?? candidates[0]!;
}

function badBody(expectation: HealingExpectation, status: number, message: string, bodyLength: number): never {
  throw protocolError(
    'RAIDA_REPLY_BAD_BODY',
    `${expectation.command} reply from RAIDA ${expectation.raidaId} (status ${status}): ${message}`,
    {
      status,
      raidaId: expectation.raidaId,
      command: expectation.command,
      bodyLength,
    },
  );
}

function isBitfieldOf(bytes: Uint8Array, count: number): boolean {
  if (bytes.length !== bitfieldLength(count)) return false;
  const unused = count % 8 === 0 ? 0 : (0xff << (count % 8)) & 0xff;
  return ((bytes[bytes.length - 1] ?? 0) & unused) === 0;
}

/**
 * Parses and validates one reply to a healing request: status from byte 2; the signature must match for every
 * status except header errors, 16 and 33 (for 34 the challenge as sent); bodies must have the exact shape §2
 * gives (241 get_ticket: a 4-byte ticket; 243: bitfield ‖ ticket or bitfield; 211: one byte 0/1/2 per coin;
 * validate_ticket 250: whole `[den SN]` records). Throws `XError`s of category protocol like `validateReply`.
 */
export function validateHealingReply(bytes: Uint8Array, expectation: HealingExpectation): ValidatedHealingReply {
  const reply = parseReply(bytes);
  const status = statusInfo(reply.status);
  const context = { status: reply.status, raidaId: expectation.raidaId, command: expectation.command };
  if (!status.signatureTrusted) return { outcome: 'error', status, reply, staleFields: true };
  const signature = reply.status === RAIDA_STATUS.encryptionCoinNotFound ? expectation.wireChallenge : expectation.signature;
  if (!bytesEqual(reply.signature, signature)) {
    throw protocolError(
      'RAIDA_REPLY_SIGNATURE_MISMATCH',
      `Reply from RAIDA ${expectation.raidaId} (status ${reply.status}) does not carry the signature of its ${expectation.command} request`,
      context,
    );
  }
  const code = reply.status;
  const n = expectation.coinCount;
  if (!SUCCESS[expectation.command].includes(code)) {
    if (status.kind === 'success' || status.kind === 'coin-result' || (code >= 208 && code <= 211)) {
      throw protocolError('RAIDA_REPLY_UNEXPECTED_STATUS', `Status ${code} is not an answer to ${expectation.command}`, context);
    }
    return { outcome: 'error', status, reply, staleFields: false };
  }
  const body = reply.body;
  switch (expectation.command) {
    case 'get_ticket': {
      if (code === 242) {
        if (body !== undefined) badBody(expectation, code, 'an all-fail reply carries no ticket', body.length);
        return { outcome: 'ticket', status, reply, passed: new Array<boolean>(n).fill(false), ticket: undefined };
      }
      const size = (code === 241 ? 0 : bitfieldLength(n)) + TICKET_LENGTH;
      const plain = decrypt(
        body ?? new Uint8Array(0),
        expectation,
        (candidate) => candidate.length === size && (code === 241 || isMixed(candidate.subarray(0, size - TICKET_LENGTH), n)),
      );
      if (plain.length !== size) badBody(expectation, code, `expected ${size} bytes`, plain.length);
      const bits = plain.subarray(0, size - TICKET_LENGTH);
      if (code === 243 && !isMixed(bits, n)) badBody(expectation, code, `not a mixed bitfield for ${n} coins`, plain.length);
      const passed = code === 241 ? new Array<boolean>(n).fill(true) : decodeVerdictBitfield(bits, n);
      return { outcome: 'ticket', status, reply, passed, ticket: readU32(plain, size - TICKET_LENGTH) };
    }
    case 'fix': {
      if (code !== 243) {
        if (body !== undefined) badBody(expectation, code, 'an all-or-nothing fix reply carries no body', body.length);
        return { outcome: 'fix', status, reply, fixed: new Array<boolean>(n).fill(code === 241) };
      }
      const plain = decrypt(body ?? new Uint8Array(0), expectation, (candidate) => isMixed(candidate, n));
      if (!isMixed(plain, n)) badBody(expectation, code, `not a mixed bitfield for ${n} coins`, plain.length);
      return { outcome: 'fix', status, reply, fixed: decodeVerdictBitfield(plain, n) };
    }
    case 'find': {
      if (code !== HEALING_STATUS.findMixed) {
        if (body !== undefined) badBody(expectation, code, 'an all-alike find reply carries no body', body.length);
        const one: FindResult = code === HEALING_STATUS.findAllAn ? 'an' : code === HEALING_STATUS.findAllPan ? 'pan' : 'neither';
        return { outcome: 'find', status, reply, found: new Array<FindResult>(n).fill(one) };
      }
      const wellFormed = (candidate: Uint8Array): boolean =>
        candidate.length === n && candidate.every((byte) => byte <= 2) && new Set(candidate).size > 1;
      const plain = decrypt(body ?? new Uint8Array(0), expectation, wellFormed);
      if (!wellFormed(plain)) badBody(expectation, code, `expected ${n} mixed bytes of 0, 1 or 2`, plain.length);
      return {
        outcome: 'find',
        status,
        reply,
        found: Array.from(plain, (byte): FindResult => (byte === 1 ? 'an' : byte === 2 ? 'pan' : 'neither')),
      };
    }
    case 'validate_ticket': {
      const plain = decrypt(body ?? new Uint8Array(0), expectation, (candidate) => candidate.length % FIX_COIN_LENGTH === 0);
      if (plain.length % FIX_COIN_LENGTH !== 0) badBody(expectation, code, `not whole ${FIX_COIN_LENGTH}-byte coin records`, plain.length);
      const coins: CoinId[] = [];
      for (let at = 0; at < plain.length; at += FIX_COIN_LENGTH)
        coins.push({ denomination: readI8(plain, at), serialNumber: readU32(plain, at + 1) });
      return { outcome: 'claimed', status, reply, coins };
    }
  }
}

function isMixed(bits: Uint8Array, n: number): boolean {
  if (!isBitfieldOf(bits, n)) return false;
  const verdicts = decodeVerdictBitfield(bits, n);
  return verdicts.includes(true) && verdicts.includes(false);
}

/** A healing request as a server decodes it. */
export type ParsedHealingRequest = Omit<ParsedRequest, 'command'> & {
  readonly header: RequestHeader;
  /** Pass this to `buildReplyForRequest` to answer. */
  readonly replySource: ParsedRequest;
} & (
    | { readonly command: 'get_ticket'; readonly coins: readonly Coin[] }
    | { readonly command: 'find'; readonly coins: readonly PownCoin[] }
    | { readonly command: 'fix'; readonly coins: readonly CoinId[]; readonly pg: Uint8Array; readonly tickets: readonly number[] }
    | { readonly command: 'validate_ticket'; readonly claimantId: number; readonly ticket: number }
  );

export type HealingRequestCheck =
  | { readonly outcome: 'accepted'; readonly request: ParsedHealingRequest }
  | { readonly outcome: 'rejected'; readonly rejection: RequestRejection }
  | { readonly outcome: 'ignored'; readonly reason: string };

/**
 * What a RAIDAX server does with a healing datagram (bytes 4–5 = 2/40, 2/50, 2/60 or 2/80): the checks every command
 * gets, in the server's order (header, length, encryption, terminator, challenge; as `checkRequest`), then the
 * command's own: get_ticket no body → 36, BL < 39 → 16, (BL − 18) % 21 → 39; validate_ticket BL ≠ 23 → 16;
 * find BL < 55 → 16, (BL − 18) % 37 → 39; fix BL < 139 → 16, (BL − 134) % 5 → 39. Returns `undefined` for a datagram
 * that is not a healing command. Never throws for any input bytes.
 */
export function checkHealingRequest(bytes: Uint8Array, options: RequestCheckOptions): HealingRequestCheck | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_LENGTH) return undefined;
  const spec = healingCommandByCode(bytes[4] ?? 0, bytes[5] ?? 0);
  if (spec === undefined) return undefined;
  // The checks before the command's own are the same for every command: run them as for an echo (0/0),
  // which has no record rules, and put the real command back into what they return.
  const asEcho = bytes.slice();
  asEcho[4] = 0;
  asEcho[5] = 0;
  const check = checkRequest(asEcho, options);
  if (check.outcome === 'ignored') return check;
  const header: RequestHeader = {
    ...(check.outcome === 'accepted' ? check.request.header : check.rejection.header),
    commandGroup: spec.group,
    command: spec.command,
  };
  if (check.outcome === 'rejected') return { outcome: 'rejected', rejection: { ...check.rejection, header } };
  const base = { ...check.request, header };
  const reject = (status: number, reason: string): HealingRequestCheck => ({
    outcome: 'rejected',
    rejection: { status, reason, header, length: base.length, respondingRaidaId: base.respondingRaidaId, signature: base.signature },
  });
  const bodyLength = header.bodyLength;
  const payload = base.payload;
  const replySource = base as ParsedRequest;
  switch (spec.name) {
    case 'get_ticket': {
      if (bodyLength === 0) return reject(HEALING_STATUS.noBody, 'get_ticket without a body');
      if (bodyLength < 39) return reject(RAIDA_STATUS.invalidPacketLength, `get_ticket body of ${bodyLength} bytes is under 39`);
      if ((bodyLength - 18) % 21 !== 0) return reject(RAIDA_STATUS.invalidCoinBodyLength, 'get_ticket body is not whole 21-byte coins');
      return { outcome: 'accepted', request: { ...base, replySource, command: 'get_ticket', coins: decodeDetectCoins(payload) } };
    }
    case 'validate_ticket': {
      if (bodyLength !== VALIDATE_TICKET_BODY_LENGTH)
        return reject(RAIDA_STATUS.invalidPacketLength, `validate_ticket body of ${bodyLength} bytes is not 23`);
      return {
        outcome: 'accepted',
        request: { ...base, replySource, command: 'validate_ticket', claimantId: payload[0] ?? 0, ticket: readU32(payload, 1) },
      };
    }
    case 'find': {
      if (bodyLength < 55) return reject(RAIDA_STATUS.invalidPacketLength, `find body of ${bodyLength} bytes is under 55`);
      if ((bodyLength - 18) % 37 !== 0) return reject(RAIDA_STATUS.invalidCoinBodyLength, 'find body is not whole 37-byte coins');
      return { outcome: 'accepted', request: { ...base, replySource, command: 'find', coins: decodePownCoins(payload) } };
    }
    case 'fix': {
      if (bodyLength < 139) return reject(RAIDA_STATUS.invalidPacketLength, `fix body of ${bodyLength} bytes is under 139`);
      if ((bodyLength - 134) % 5 !== 0)
        return reject(RAIDA_STATUS.invalidCoinBodyLength, 'fix body is not whole 5-byte coins before the PG and tickets');
      const n = (bodyLength - 134) / 5;
      const coins: CoinId[] = [];
      for (let i = 0; i < n; i++) coins.push({ denomination: readI8(payload, i * 5), serialNumber: readU32(payload, i * 5 + 1) });
      const pg = payload.slice(n * 5, n * 5 + PG_LENGTH);
      const tickets: number[] = [];
      for (let i = 0; i < FIX_TICKET_COUNT; i++) tickets.push(readU32(payload, n * 5 + PG_LENGTH + i * TICKET_LENGTH));
      return { outcome: 'accepted', request: { ...base, replySource, command: 'fix', coins, pg, tickets } };
    }
  }
}
