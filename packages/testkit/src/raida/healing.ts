import { createSocket, type Socket } from 'node:dgram';
import {
  FIX_PEER_VOTES_NEEDED,
  HEALING_STATUS,
  MAX_DENOMINATION,
  MIN_DENOMINATION,
  NETWORK_SERIAL_NUMBER_LIMIT,
  RAIDA_COUNT,
  RAIDA_STATUS,
  buildReplyForRequest,
  buildValidateTicketRequest,
  encodeVerdictBitfield,
  fixedAn,
  hasStaleFields,
  parseReply,
} from '@x/raida-protocol';
import type { CoinId, HealingCommandName, HealingRequestCheck, ParsedHealingRequest } from '@x/raida-protocol';
import type { Random } from '../random.js';
import type { RaidaServerBehavior } from './behavior.js';
import { coinKey } from './coins.js';
import { checkKeys, integerIn, invalidRaidaOptions, isRecord, numberIn } from './errors.js';
import type { ServerState } from './server.js';

/**
 * How the simulated servers heal (shared/raida-wallet.md §2). The defaults are what the RAIDAX server's code intends:
 * 512 ticket slots, tickets released after 300 s, peers answering validate_ticket within 32 s, and peer calls that
 * work. `headerSizeBug` reproduces the published server's fix (§2.4.3): it sends 71-byte validate requests and reads
 * a 48-byte reply header, so no peer vote ever counts and every fix answers 242, while the peers still mark the
 * tickets claimed.
 */
export interface RaidaHealingOptions {
  /** Ticket slots per server; get_ticket answers 42 when all are taken. Default 512. */
  readonly ticketSlots?: number;
  /** A ticket is released this long after it was issued. Default 300 000 ms. */
  readonly ticketLifetimeMs?: number;
  /** How long a fixing server waits for each peer's validate_ticket reply. Default 32 000 ms (RX's socket timeouts). */
  readonly peerTimeoutMs?: number;
  /** `true` for every server, or the RAIDA ids that have the §2.4.3 bug. Default `false`. */
  readonly headerSizeBug?: boolean | readonly number[];
  /** Clock for ticket ages, in ms. Default `performance.now`. */
  readonly clock?: () => number;
}

export interface ResolvedHealingOptions {
  readonly ticketSlots: number;
  readonly ticketLifetimeMs: number;
  readonly peerTimeoutMs: number;
  readonly headerSizeBug: (raidaId: number) => boolean;
  readonly clock: () => number;
}

const HOUR_MS = 3_600_000;
/** RX `MAX_COINS_PER_TICKET`: passing coins beyond this are not recorded in the ticket. */
const MAX_COINS_PER_TICKET = 4096;
/** RX `REQUEST_HEADER_SIZE` / `RESPONSE_HEADER_SIZE` on the published server: the EN 4/5 header, not the 32 bytes sent. */
const BUGGY_HEADER_LENGTH = 48;
/** The fixed challenge RX puts in its validate_ticket requests: 00..0B ‖ CRC32. */
const PEER_CHALLENGE = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x92, 0x70, 0xc9, 0x65]);

export function resolveHealingOptions(value: unknown, count: number): ResolvedHealingOptions {
  const given = value ?? {};
  if (!isRecord(given)) throw invalidRaidaOptions('must be an object', 'healing', value);
  checkKeys(given, ['ticketSlots', 'ticketLifetimeMs', 'peerTimeoutMs', 'headerSizeBug', 'clock'], 'healing');
  const bug = given.headerSizeBug ?? false;
  let headerSizeBug: (raidaId: number) => boolean;
  if (typeof bug === 'boolean') headerSizeBug = () => bug;
  else if (Array.isArray(bug)) {
    const ids = new Set((bug as unknown[]).map((id, index) => integerIn(id, `healing.headerSizeBug[${index}]`, 0, count - 1)));
    headerSizeBug = (raidaId) => ids.has(raidaId);
  } else throw invalidRaidaOptions('must be true, false or an array of RAIDA ids', 'healing.headerSizeBug', bug);
  if (given.clock !== undefined && typeof given.clock !== 'function')
    throw invalidRaidaOptions('must be a function () => ms', 'healing.clock', given.clock);
  return {
    ticketSlots: given.ticketSlots === undefined ? 512 : integerIn(given.ticketSlots, 'healing.ticketSlots', 1, 1_000_000),
    ticketLifetimeMs:
      given.ticketLifetimeMs === undefined ? 300_000 : numberIn(given.ticketLifetimeMs, 'healing.ticketLifetimeMs', 1, 24 * HOUR_MS),
    peerTimeoutMs: given.peerTimeoutMs === undefined ? 32_000 : numberIn(given.peerTimeoutMs, 'healing.peerTimeoutMs', 1, HOUR_MS),
    headerSizeBug,
    clock: (given.clock as (() => number) | undefined) ?? (() => performance.now()),
  };
}

interface Ticket {
  readonly coins: readonly CoinId[];
  readonly issuedAt: number;
  readonly claims: Set<number>;
}

/** What one server keeps for healing: its ticket pool. */
export interface HealingState {
  readonly tickets: Map<number, Ticket>;
  readonly random: Random;
}

export function createHealingState(random: Random): HealingState {
  return { tickets: new Map(), random };
}

/** How a fixing server reaches its peers: one datagram each, and the reply (or `undefined` after `timeoutMs`). */
export type PeerCall = (
  requests: readonly { readonly raidaId: number; readonly bytes: Uint8Array }[],
  timeoutMs: number,
) => Promise<(Uint8Array | undefined)[]>;

export interface HealingContext {
  readonly state: ServerState;
  readonly healing: HealingState;
  readonly behavior: RaidaServerBehavior;
  readonly options: ResolvedHealingOptions;
  readonly coinId: number;
  /** Ids of every server of the cluster, this one included. */
  readonly peerIds: readonly number[];
  readonly callPeers: PeerCall;
  readonly elapsedUs: () => number;
}

export interface HealingAnswer {
  readonly status: number;
  readonly command: HealingCommandName;
  readonly reason: string | undefined;
  readonly reply: Uint8Array;
}

/** RX keeps every den −8…6 and SN below 1,024,000 on a page; anything else is "coin not found" (40). */
function hasPage(coin: CoinId): boolean {
  return coin.denomination >= MIN_DENOMINATION && coin.denomination <= MAX_DENOMINATION && coin.serialNumber < NETWORK_SERIAL_NUMBER_LIMIT;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function u32(value: number): Uint8Array {
  return Uint8Array.from([(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

function coinRecords(coins: readonly CoinId[]): Uint8Array {
  const out = new Uint8Array(coins.length * 5);
  coins.forEach((coin, i) => {
    out[i * 5] = coin.denomination & 0xff;
    out.set(u32(coin.serialNumber), i * 5 + 1);
  });
  return out;
}

function releaseExpired(context: HealingContext): void {
  const now = context.options.clock();
  for (const [value, ticket] of context.healing.tickets) {
    if (now - ticket.issuedAt >= context.options.ticketLifetimeMs) context.healing.tickets.delete(value);
  }
}

function newTicketValue(healing: HealingState): number {
  for (;;) {
    const value = healing.random.int(1, 0xffffffff);
    if (!healing.tickets.has(value)) return value;
  }
}

type Outcome = { status: number; body?: Uint8Array; reason?: string };

function getTicket(request: Extract<ParsedHealingRequest, { command: 'get_ticket' }>, context: HealingContext): Outcome {
  if (!request.coins.every(hasPage)) return { status: RAIDA_STATUS.coinNotFound, reason: 'a coin has no page on this server' };
  const passed = request.coins.map((coin) => sameBytes(context.state.coins.get(coinKey(coin)), coin.an));
  if (!passed.includes(true)) return { status: RAIDA_STATUS.allFail };
  releaseExpired(context);
  if (context.healing.tickets.size >= context.options.ticketSlots)
    return { status: HEALING_STATUS.noTicketSlot, reason: 'every ticket slot is taken' };
  const value = newTicketValue(context.healing);
  const listed = request.coins
    .filter((_, i) => passed[i])
    .slice(0, MAX_COINS_PER_TICKET)
    .map((coin) => ({ denomination: coin.denomination, serialNumber: coin.serialNumber }));
  context.healing.tickets.set(value, { coins: listed, issuedAt: context.options.clock(), claims: new Set() });
  if (passed.every(Boolean)) return { status: RAIDA_STATUS.allPass, body: u32(value) };
  const bits = encodeVerdictBitfield(passed);
  const body = new Uint8Array(bits.length + 4);
  body.set(bits);
  body.set(u32(value), bits.length);
  return { status: RAIDA_STATUS.mixed, body };
}

function validateTicket(request: Extract<ParsedHealingRequest, { command: 'validate_ticket' }>, context: HealingContext): Outcome {
  if (request.claimantId >= RAIDA_COUNT)
    return { status: HEALING_STATUS.wrongRaida, reason: `claimant ${request.claimantId} is not a RAIDA` };
  releaseExpired(context);
  const ticket = context.healing.tickets.get(request.ticket);
  if (ticket === undefined) return { status: HEALING_STATUS.ticketNotFound, reason: 'no such ticket' };
  if (ticket.claims.has(request.claimantId))
    return { status: HEALING_STATUS.ticketClaimed, reason: `RAIDA ${request.claimantId} already claimed this ticket` };
  ticket.claims.add(request.claimantId);
  return { status: RAIDA_STATUS.success, body: coinRecords(ticket.coins) };
}

function find(request: Extract<ParsedHealingRequest, { command: 'find' }>, context: HealingContext): Outcome {
  if (!request.coins.every(hasPage)) return { status: RAIDA_STATUS.coinNotFound, reason: 'a coin has no page on this server' };
  const found = request.coins.map((coin) => {
    const held = context.state.coins.get(coinKey(coin));
    if (sameBytes(held, coin.an)) return 1;
    if (sameBytes(held, coin.pan)) return 2;
    return 0;
  });
  if (found.every((value) => value === 1)) return { status: HEALING_STATUS.findAllAn };
  if (found.every((value) => value === 2)) return { status: HEALING_STATUS.findAllPan };
  if (found.every((value) => value === 0)) return { status: HEALING_STATUS.findNeither };
  return { status: HEALING_STATUS.findMixed, body: Uint8Array.from(found) };
}

/** The coins a peer's validate_ticket reply lists, read as the fixing server reads it; `undefined` when it cannot. */
function peerVotes(reply: Uint8Array | undefined, buggy: boolean): CoinId[] | undefined {
  if (reply === undefined) return undefined;
  if (buggy) {
    // recv(RESPONSE_HEADER_SIZE = 48, MSG_WAITALL), then the body size from bytes 9–11: a validate reply never
    // holds 48 header bytes plus its whole body, so this always fails ("Failed to read header/body").
    if (reply.length < BUGGY_HEADER_LENGTH) return undefined;
    const bodySize = ((reply[9] ?? 0) << 16) | ((reply[10] ?? 0) << 8) | (reply[11] ?? 0);
    if (reply.length < BUGGY_HEADER_LENGTH + bodySize) return undefined;
  }
  let parsed;
  try {
    parsed = parseReply(reply);
  } catch {
    return undefined;
  }
  if (parsed.status !== RAIDA_STATUS.success || parsed.body === undefined || parsed.body.length % 5 !== 0) return undefined;
  const coins: CoinId[] = [];
  for (let at = 0; at < parsed.body.length; at += 5) {
    const raw = parsed.body[at] ?? 0;
    coins.push({
      denomination: raw > 127 ? raw - 256 : raw,
      serialNumber:
        ((parsed.body[at + 1] ?? 0) * 0x1000000 +
          ((parsed.body[at + 2] ?? 0) << 16) +
          ((parsed.body[at + 3] ?? 0) << 8) +
          (parsed.body[at + 4] ?? 0)) >>>
        0,
    });
  }
  return coins;
}

async function fix(request: Extract<ParsedHealingRequest, { command: 'fix' }>, context: HealingContext): Promise<Outcome> {
  if (!request.coins.every(hasPage)) return { status: RAIDA_STATUS.coinNotFound, reason: 'a coin has no page on this server' };
  const self = context.state.raidaId;
  const buggy = context.options.headerSizeBug(self);
  // One validate_ticket per peer in the server's list (index i = RAIDA i), with ticket i from the client's body.
  const requests = context.peerIds
    .filter((id) => id !== self && id < request.tickets.length)
    .map((id) => {
      const built = buildValidateTicketRequest({
        raidaId: id,
        coinId: context.coinId,
        challenge: PEER_CHALLENGE,
        echo: new Uint8Array(2),
        claimantId: self,
        ticket: request.tickets[id]!,
      });
      const bytes = built.bytes;
      bytes[8] = 1;
      if (!buggy) return { raidaId: id, bytes };
      // cmd[REQUEST_HEADER_SIZE + 23] with REQUEST_HEADER_SIZE 48: 16 uninitialised stack bytes follow the request.
      const padded = new Uint8Array(bytes.length + 16);
      padded.set(bytes);
      padded.set(context.healing.random.bytes(16), bytes.length);
      return { raidaId: id, bytes: padded };
    });
  const replies = await context.callPeers(requests, context.options.peerTimeoutMs);
  const votes = request.coins.map(() => 1);
  for (const reply of replies) {
    const listed = peerVotes(reply, buggy);
    if (listed === undefined) continue;
    for (const coin of listed) {
      request.coins.forEach((wanted, index) => {
        if (wanted.denomination === coin.denomination && wanted.serialNumber === coin.serialNumber) votes[index]!++;
      });
    }
  }
  const fixed = votes.map((count) => count > FIX_PEER_VOTES_NEEDED);
  request.coins.forEach((coin, index) => {
    if (fixed[index]) context.state.coins.set(coinKey(coin), fixedAn(self, coin.denomination, coin.serialNumber, request.pg));
  });
  if (fixed.every(Boolean)) return { status: RAIDA_STATUS.allPass };
  if (!fixed.includes(true)) return { status: RAIDA_STATUS.allFail };
  return { status: RAIDA_STATUS.mixed, body: encodeVerdictBitfield(fixed) };
}

/**
 * What a simulated RAIDAX server answers to a healing datagram that `checkHealingRequest` accepted or rejected.
 * A fix waits for every peer's validate_ticket reply (or its timeout) before it answers.
 */
export async function answerHealing(
  check: Exclude<HealingRequestCheck, { outcome: 'ignored' }>,
  commandName: HealingCommandName,
  context: HealingContext,
): Promise<HealingAnswer> {
  let outcome: Outcome;
  if (context.behavior.statusOverride !== null) outcome = { status: context.behavior.statusOverride };
  else if (check.outcome === 'rejected') outcome = { status: check.rejection.status, reason: check.rejection.reason };
  else {
    const request = check.request;
    switch (request.command) {
      case 'get_ticket':
        outcome = getTicket(request, context);
        break;
      case 'validate_ticket':
        outcome = validateTicket(request, context);
        break;
      case 'find':
        outcome = find(request, context);
        break;
      case 'fix':
        outcome = await fix(request, context);
        break;
    }
  }
  const source = check.outcome === 'accepted' ? check.request.replySource : check.rejection;
  const executionTimeUs = Math.min(0xffffffff, Math.max(0, Math.round(context.elapsedUs() + context.behavior.slowMs * 1000)));
  const reply = buildReplyForRequest(source, {
    status: outcome.status,
    body: outcome.body,
    executionTimeUs,
    replyCounter: context.behavior.replyCounter,
    stale: context.state.stale,
  });
  if (!hasStaleFields(outcome.status)) {
    context.state.stale = {
      commandGroup: source.header.commandGroup,
      echo: source.header.echo.slice(),
      signature: source.signature.slice(),
    };
  }
  if (context.behavior.wrongSignature) for (let i = 16; i < 32; i++) reply[i] = (reply[i] ?? 0) ^ 0xff;
  return { status: outcome.status, command: commandName, reason: outcome.reason, reply };
}

/**
 * A fixing server's calls to its peers: one UDP socket on 127.0.0.1, one datagram per peer, each reply matched by the
 * peer's port, every socket and timer released when the last reply or the timeout arrives, or when `closed` fires.
 */
export function createPeerCall(
  portOf: (raidaId: number) => number | undefined,
  track: { readonly sockets: Set<Socket>; readonly timers: Set<NodeJS.Timeout>; readonly isClosed: () => boolean },
): PeerCall {
  return (requests, timeoutMs) =>
    new Promise((resolve) => {
      const replies: (Uint8Array | undefined)[] = requests.map(() => undefined);
      if (requests.length === 0 || track.isClosed()) {
        resolve(replies);
        return;
      }
      const socket = createSocket({ type: 'udp4' });
      track.sockets.add(socket);
      let pending = requests.length;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        track.timers.delete(timer);
        track.sockets.delete(socket);
        try {
          socket.close();
        } catch {
          // Already closed by the cluster's close().
        }
        resolve(replies);
      };
      const timer = setTimeout(finish, timeoutMs);
      track.timers.add(timer);
      socket.on('error', finish);
      socket.on('close', finish);
      socket.on('message', (message, from) => {
        const index = requests.findIndex((request) => portOf(request.raidaId) === from.port);
        if (index < 0 || replies[index] !== undefined) return;
        replies[index] = new Uint8Array(message);
        if (--pending === 0) finish();
      });
      socket.bind(0, '127.0.0.1', () => {
        for (const request of requests) {
          const port = portOf(request.raidaId);
          if (port === undefined) continue;
          socket.send(request.bytes, port, '127.0.0.1', () => undefined);
        }
      });
    });
}
