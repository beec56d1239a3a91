import { isAbortSignal } from '@x/errors';
import {
  AN_LENGTH,
  DEFAULT_COIN_ID,
  PUBLIC_RAIDA_SERVERS,
  RAIDA_COUNT,
  RAIDA_QUORUM,
  assertCoinId,
  checkServerSet,
  createBufferedRandom,
  maxCoinsPerRequest,
} from '@x/raida-protocol';
import type { Coin, PownCoin, RaidaServer, RandomSource, ReplyCounterConvention } from '@x/raida-protocol';
import type { UdpClient, UdpClientOptions } from '@x/udp-transport';
import { invalidCoin, invalidOptions } from './errors.js';
import { resolveReplyCounters } from './reply-counters.js';
import type { RaidaCallOptions, RaidaClientOptions, RaidaCoin, RaidaEncryption, RaidaNewAns, RaidaReplyEvent } from './types.js';

/** Node's timers cannot wait longer than 2^31 − 1 ms. */
const MAX_TIMEOUT_MS = 2_147_483_647;
const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_REQUEST_BYTES = 1024;
/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM_BYTES = 65_507;
/** Retries beyond this are a mistake, not a policy. */
export const MAX_RETRIES = 10;

export interface ResolvedClientOptions {
  readonly servers: readonly RaidaServer[];
  readonly coinId: number;
  readonly timeoutMs: number;
  readonly quorum: number;
  readonly maxRequestBytes: number;
  readonly random: RandomSource;
  readonly encryption: RaidaEncryption;
  /** Reply counter conventions the user set, by RAIDA id. */
  readonly replyCounters: Readonly<Record<number, ReplyCounterConvention>>;
  /** A client to share, or the options for one to create. */
  readonly udp: { readonly shared: UdpClient } | { readonly options: UdpClientOptions | undefined };
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function isValidTimeout(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && value <= MAX_TIMEOUT_MS;
}

function isUdpClient(value: object): value is UdpClient {
  const candidate = value as Partial<UdpClient>;
  return typeof candidate.fanOut === 'function' && typeof candidate.close === 'function';
}

function resolveServers(value: unknown): RaidaServer[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidOptions('servers must be a non-empty array of { id, host, port }');
  if (value.length > RAIDA_COUNT) {
    throw invalidOptions(`servers has ${value.length} entries; a RAIDA has ${RAIDA_COUNT} servers (ids 0 to ${RAIDA_COUNT - 1})`, { count: value.length });
  }
  const servers = value.map((server: unknown, index) => {
    if (typeof server !== 'object' || server === null) throw invalidOptions(`servers[${index}] must be an object { id, host, port }`, { index });
    const { id, host, port } = server as Partial<RaidaServer>;
    if (!isInteger(id, 0, RAIDA_COUNT - 1)) throw invalidOptions(`servers[${index}].id must be a RAIDA id, an integer from 0 to ${RAIDA_COUNT - 1}`, { index });
    if (typeof host !== 'string' || host.length === 0) throw invalidOptions(`servers[${index}].host must be a non-empty string`, { index });
    if (!isInteger(port, 1, 65535)) throw invalidOptions(`servers[${index}].port must be an integer from 1 to 65535`, { index });
    return Object.freeze({ id, host, port });
  });
  checkServerSet(servers, (message, context) => {
    throw invalidOptions(`servers ${message}`, context);
  });
  return servers;
}

export function resolveClientOptions(options: RaidaClientOptions | undefined): ResolvedClientOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw invalidOptions('options must be an object');
  const servers = Object.freeze(resolveServers(options.servers ?? PUBLIC_RAIDA_SERVERS));
  const { coinId = DEFAULT_COIN_ID, timeoutMs = DEFAULT_TIMEOUT_MS, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES } = options;
  // One Web Crypto call per 4 KiB instead of two per server per round.
  const random = options.random ?? createBufferedRandom();
  if (!isInteger(coinId, 0, 0xffff)) throw invalidOptions('coinId must be an integer from 0 to 65535');
  if (!isValidTimeout(timeoutMs)) throw invalidOptions(`timeoutMs must be a number > 0 and <= ${MAX_TIMEOUT_MS}`);
  // A coin needs 13 of the 25 RAIDA servers whatever subset is configured: fewer servers never lower the bar.
  const quorum = options.quorum ?? RAIDA_QUORUM;
  if (!isInteger(quorum, RAIDA_QUORUM, RAIDA_COUNT)) {
    throw invalidOptions(`quorum must be a strict majority of the ${RAIDA_COUNT} RAIDA servers: an integer from ${RAIDA_QUORUM} to ${RAIDA_COUNT}`);
  }
  if (!isInteger(maxRequestBytes, 0, MAX_DATAGRAM_BYTES) || maxCoinsPerRequest('pown', maxRequestBytes) < 1) {
    throw invalidOptions(`maxRequestBytes must be an integer large enough for one pown coin (87) and at most ${MAX_DATAGRAM_BYTES}`);
  }
  if (typeof random !== 'function') throw invalidOptions('random must be a function (n) => Uint8Array');
  const encryption = resolveEncryption(options.encryption ?? { type: 0 }, servers);
  const replyCounters = resolveReplyCounters(options.replyCounters, servers);
  const udp = options.udp;
  if (udp !== undefined && (typeof udp !== 'object' || udp === null)) throw invalidOptions('udp must be a UDP client or UDP client options');
  return {
    servers,
    coinId,
    timeoutMs,
    quorum,
    maxRequestBytes,
    random,
    encryption,
    replyCounters,
    udp: udp !== undefined && isUdpClient(udp) ? { shared: udp } : { options: udp },
  };
}

export function resolveEncryption(value: unknown, servers: readonly RaidaServer[]): RaidaEncryption {
  if (typeof value !== 'object' || value === null) throw invalidOptions('encryption must be { type: 0 } or { type: 1, keyCoin }');
  const { type, keyCoin } = value as { type?: unknown; keyCoin?: unknown };
  if (type === 0) return { type: 0 };
  if (type !== 1) throw invalidOptions('encryption.type must be 0 or 1');
  checkRaidaCoin(keyCoin, servers, 'Key coin');
  return { type: 1, keyCoin: keyCoin as RaidaCoin };
}

export interface ResolvedCallOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onReply: ((event: RaidaReplyEvent) => void) | undefined;
  readonly encryption: RaidaEncryption;
  readonly retries: number;
  readonly earlyFinish: boolean;
}


export function resolveCallOptions(
  options: RaidaCallOptions & { readonly retries?: unknown; readonly earlyFinish?: unknown } | undefined,
  client: ResolvedClientOptions,
  command: 'echo' | 'version' | 'detect' | 'pown',
): ResolvedCallOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw invalidOptions('call options must be an object');
  const { timeoutMs = client.timeoutMs, signal, onReply, retries = 0, earlyFinish = false } = options;
  if (!isValidTimeout(timeoutMs)) throw invalidOptions(`timeoutMs must be a number > 0 and <= ${MAX_TIMEOUT_MS}`);
  if (signal !== undefined && !isAbortSignal(signal)) throw invalidOptions('signal must be an AbortSignal');
  if (onReply !== undefined && typeof onReply !== 'function') throw invalidOptions('onReply must be a function');
  if (command === 'pown' && retries !== 0) {
    throw invalidOptions('pown is not idempotent and is never retried: a resent pown could move an AN twice; remove the retries option', {
      option: 'retries',
    });
  }
  if (!isInteger(retries, 0, MAX_RETRIES)) throw invalidOptions(`retries must be an integer from 0 to ${MAX_RETRIES}`, { option: 'retries' });
  if (typeof earlyFinish !== 'boolean') throw invalidOptions('earlyFinish must be a boolean', { option: 'earlyFinish' });
  if (earlyFinish && (command === 'echo' || command === 'version')) {
    throw invalidOptions(`earlyFinish applies to detect and pown, not ${command}`, { option: 'earlyFinish' });
  }
  const encryption = options.encryption === undefined ? client.encryption : resolveEncryption(options.encryption, client.servers);
  return { timeoutMs, signal, onReply, encryption, retries, earlyFinish };
}

function checkAns(ans: unknown, servers: readonly RaidaServer[], what: string, field: string, context: Record<string, unknown>): void {
  if (!Array.isArray(ans)) throw invalidCoin(`${what}: ${field} must be an array of 16-byte ANs indexed by RAIDA id`, { ...context, field });
  for (const server of servers) {
    const an: unknown = ans[server.id];
    if (!(an instanceof Uint8Array) || an.length !== AN_LENGTH) {
      throw invalidCoin(`${what}: ${field}[${server.id}] must be a Uint8Array of ${AN_LENGTH} bytes (the AN on RAIDA ${server.id})`, {
        ...context,
        field,
        raidaId: server.id,
      });
    }
  }
}

/** Throws `RAIDA_INVALID_COIN` unless `coin` has a valid id and an AN for every configured server. Never echoes an AN. */
export function checkRaidaCoin(coin: unknown, servers: readonly RaidaServer[], what: string, index?: number): void {
  if (typeof coin !== 'object' || coin === null) throw invalidCoin(`${what} must be an object { denomination, serialNumber, ans }`, index === undefined ? {} : { index });
  assertCoinId(coin as RaidaCoin, index);
  checkAns((coin as RaidaCoin).ans, servers, what, 'ans', index === undefined ? {} : { index });
}

export function checkCoins(coins: unknown, servers: readonly RaidaServer[]): asserts coins is readonly RaidaCoin[] {
  if (!Array.isArray(coins) || coins.length === 0) throw invalidCoin('coins must be a non-empty array', {});
  coins.forEach((coin: unknown, index) => checkRaidaCoin(coin, servers, `Coin ${index}`, index));
}

export function checkNewAns(newAns: unknown, coinCount: number, servers: readonly RaidaServer[]): asserts newAns is readonly RaidaNewAns[] {
  if (!Array.isArray(newAns) || newAns.length !== coinCount) {
    throw invalidCoin(`newAns must be an array with one entry per coin (${coinCount})`, { field: 'newAns' });
  }
  newAns.forEach((ans: unknown, index) => checkAns(ans, servers, `New ANs of coin ${index}`, 'newAns', { index }));
}

/** The coin as RAIDA `id` knows it. */
export function coinOn(coin: RaidaCoin, id: number): Coin {
  return { denomination: coin.denomination, serialNumber: coin.serialNumber, an: coin.ans[id]! };
}

export function pownCoinOn(coin: RaidaCoin, newAns: RaidaNewAns, id: number): PownCoin {
  return { denomination: coin.denomination, serialNumber: coin.serialNumber, an: coin.ans[id]!, pan: newAns[id]! };
}
