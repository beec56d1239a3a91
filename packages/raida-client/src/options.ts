import { checkTimerMs, isAbortSignal, isPlainObject } from '@x/errors';
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
import type { UdpClient } from '@x/udp-transport';
import { invalidCoin, invalidOptions } from './errors.js';
import { resolveReplyCounters } from './reply-counters.js';
import type { RaidaCallOptions, RaidaClientOptions, RaidaCoin, RaidaEncryption, RaidaNewAns, RaidaReplyEvent } from './types.js';

const DEFAULT_ATTEMPT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_REQUEST_BYTES = 1024;
/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM_BYTES = 65_507;
/** Retries beyond this are a mistake, not a policy. */
const MAX_RETRIES = 10;

export interface ResolvedClientOptions {
  readonly servers: readonly RaidaServer[];
  readonly coinId: number;
  /** One attempt against one server (one datagram and its reply). */
  readonly attemptTimeoutMs: number;
  /** The whole call, retries and reply counter probes included; `undefined`: no deadline beyond the attempts'. */
  readonly deadlineMs: number | undefined;
  readonly quorum: number;
  readonly maxRequestBytes: number;
  readonly random: RandomSource;
  readonly encryption: RaidaEncryption;
  /** Reply counter conventions the user set, by RAIDA id. */
  readonly replyCounters: Readonly<Record<number, ReplyCounterConvention>>;
  /** The injected UDP client, or `undefined` for one the RAIDA client creates (and closes). */
  readonly udp: UdpClient | undefined;
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isUdpClient(value: unknown): value is UdpClient {
  const candidate = value as Partial<UdpClient> | null;
  return (
    typeof candidate === 'object' && candidate !== null && typeof candidate.fanOut === 'function' && typeof candidate.close === 'function'
  );
}

/** An optional duration: `undefined` stays `undefined`, anything else must be a timer in ms. */
export function optionalTimerMs(option: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkTimerMs('RAIDA_CLIENT_INVALID_OPTIONS', option, value);
}

/** `timeoutMs` was renamed: a caller still passing it gets told, rather than having it ignored. */
export function refuseTimeoutMs(options: object, where: string): void {
  if ('timeoutMs' in options && (options as { timeoutMs?: unknown }).timeoutMs !== undefined) {
    throw invalidOptions('timeoutMs', `${where}timeoutMs was renamed attemptTimeoutMs (one server); deadlineMs bounds the whole call`);
  }
}

function resolveServers(value: unknown): RaidaServer[] {
  if (!Array.isArray(value) || value.length === 0)
    throw invalidOptions('servers', 'servers must be a non-empty array of { id, host, port }', value);
  if (value.length > RAIDA_COUNT) {
    throw invalidOptions(
      'servers',
      `servers has ${value.length} entries; a RAIDA has ${RAIDA_COUNT} servers (ids 0 to ${RAIDA_COUNT - 1})`,
      value,
    );
  }
  const servers = value.map((server: unknown, index) => {
    if (!isPlainObject(server)) throw invalidOptions(`servers[${index}]`, `servers[${index}] must be an object { id, host, port }`, server);
    const { id, host, port } = server as Partial<RaidaServer>;
    if (!isInteger(id, 0, RAIDA_COUNT - 1)) {
      throw invalidOptions(`servers[${index}].id`, `servers[${index}].id must be a RAIDA id, an integer from 0 to ${RAIDA_COUNT - 1}`, id);
    }
    if (typeof host !== 'string' || host.length === 0)
      throw invalidOptions(`servers[${index}].host`, `servers[${index}].host must be a non-empty string`, host);
    if (!isInteger(port, 1, 65535))
      throw invalidOptions(`servers[${index}].port`, `servers[${index}].port must be an integer from 1 to 65535`, port);
    return Object.freeze({ id, host, port });
  });
  checkServerSet(servers, (message) => {
    throw invalidOptions('servers', `servers ${message}`);
  });
  return servers;
}

export function resolveClientOptions(options: RaidaClientOptions | undefined): ResolvedClientOptions {
  if (options === undefined) options = {};
  const given: unknown = options;
  if (!isPlainObject(given)) throw invalidOptions('options', 'options must be an object', given);
  refuseTimeoutMs(options, '');
  const servers = Object.freeze(resolveServers(options.servers ?? PUBLIC_RAIDA_SERVERS));
  const { coinId = DEFAULT_COIN_ID, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES } = options;
  // One Web Crypto call per 4 KiB instead of two per server per round.
  const random = options.random ?? createBufferedRandom();
  if (!isInteger(coinId, 0, 0xffff)) throw invalidOptions('coinId', 'coinId must be an integer from 0 to 65535', coinId);
  const attemptTimeoutMs = optionalTimerMs('attemptTimeoutMs', options.attemptTimeoutMs) ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  const deadlineMs = optionalTimerMs('deadlineMs', options.deadlineMs);
  // A coin needs 13 of the 25 RAIDA servers whatever subset is configured: fewer servers never lower the bar.
  const quorum = options.quorum ?? RAIDA_QUORUM;
  if (!isInteger(quorum, RAIDA_QUORUM, RAIDA_COUNT)) {
    throw invalidOptions(
      'quorum',
      `quorum must be a strict majority of the ${RAIDA_COUNT} RAIDA servers: an integer from ${RAIDA_QUORUM} to ${RAIDA_COUNT}`,
      quorum,
    );
  }
  if (!isInteger(maxRequestBytes, 0, MAX_DATAGRAM_BYTES) || maxCoinsPerRequest('pown', maxRequestBytes) < 1) {
    throw invalidOptions(
      'maxRequestBytes',
      `maxRequestBytes must be an integer large enough for one pown coin (87) and at most ${MAX_DATAGRAM_BYTES}`,
      maxRequestBytes,
    );
  }
  if (typeof random !== 'function') throw invalidOptions('random', 'random must be a function (n) => Uint8Array', random);
  const encryption = resolveEncryption(options.encryption ?? { type: 0 }, servers);
  const replyCounters = resolveReplyCounters(options.replyCounters, servers);
  const udp: unknown = options.udp;
  if (udp !== undefined && !isUdpClient(udp))
    throw invalidOptions('udp', 'udp must be a UDP client (createUdpClient() of @x/udp-transport)', udp);
  return { servers, coinId, attemptTimeoutMs, deadlineMs, quorum, maxRequestBytes, random, encryption, replyCounters, udp };
}

function resolveEncryption(value: unknown, servers: readonly RaidaServer[]): RaidaEncryption {
  if (!isPlainObject(value)) throw invalidOptions('encryption', 'encryption must be { type: 0 } or { type: 1, keyCoin }', value);
  const { type, keyCoin } = value as { type?: unknown; keyCoin?: unknown };
  if (type === 0) return { type: 0 };
  if (type !== 1) throw invalidOptions('encryption.type', 'encryption.type must be 0 or 1', type);
  checkRaidaCoin(keyCoin, servers, 'Key coin');
  return { type: 1, keyCoin: keyCoin as RaidaCoin };
}

export interface ResolvedCallOptions {
  readonly attemptTimeoutMs: number;
  /** When the whole call must be over, as a `performance.now()` time; `undefined`: no deadline. */
  readonly deadlineAt: number | undefined;
  readonly deadlineMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onReply: ((event: RaidaReplyEvent) => void) | undefined;
  readonly encryption: RaidaEncryption;
  readonly retries: number;
  readonly earlyFinish: boolean;
}

/** Checks a call's options at its start (the deadline's clock starts here); throws `RAIDA_CLIENT_INVALID_OPTIONS`. */
export function resolveCallOptions(
  options: (RaidaCallOptions & { readonly retries?: unknown; readonly earlyFinish?: unknown }) | undefined,
  client: ResolvedClientOptions,
  command: 'echo' | 'version' | 'detect' | 'pown',
): ResolvedCallOptions {
  if (options === undefined) options = {};
  const given: unknown = options;
  if (!isPlainObject(given)) throw invalidOptions('options', 'call options must be an object', given);
  refuseTimeoutMs(options, 'the call option ');
  const { signal, onReply, retries = 0, earlyFinish = false } = options;
  const attemptTimeoutMs = optionalTimerMs('attemptTimeoutMs', options.attemptTimeoutMs) ?? client.attemptTimeoutMs;
  const deadlineMs = optionalTimerMs('deadlineMs', options.deadlineMs) ?? client.deadlineMs;
  if (signal !== undefined && !isAbortSignal(signal)) throw invalidOptions('signal', 'signal must be an AbortSignal', signal);
  if (onReply !== undefined && typeof onReply !== 'function') throw invalidOptions('onReply', 'onReply must be a function', onReply);
  if (command === 'pown' && retries !== 0) {
    throw invalidOptions(
      'retries',
      'pown is not idempotent and is never retried: a resent pown could move an AN twice; remove the retries option',
      retries,
    );
  }
  if (!isInteger(retries, 0, MAX_RETRIES)) throw invalidOptions('retries', `retries must be an integer from 0 to ${MAX_RETRIES}`, retries);
  if (typeof earlyFinish !== 'boolean') throw invalidOptions('earlyFinish', 'earlyFinish must be a boolean', earlyFinish);
  if (earlyFinish && (command === 'echo' || command === 'version')) {
    throw invalidOptions('earlyFinish', `earlyFinish applies to detect and pown, not ${command}`, earlyFinish);
  }
  const encryption = options.encryption === undefined ? client.encryption : resolveEncryption(options.encryption, client.servers);
  const deadlineAt = deadlineMs === undefined ? undefined : performance.now() + deadlineMs;
  return { attemptTimeoutMs, deadlineAt, deadlineMs, signal, onReply, encryption, retries, earlyFinish };
}

function checkAns(ans: unknown, servers: readonly RaidaServer[], what: string, option: string, context: { readonly index?: number }): void {
  if (!Array.isArray(ans))
    throw invalidCoin(`${what}: ${option} must be an array of 16-byte ANs indexed by RAIDA id`, { ...context, option });
  for (const server of servers) {
    const an: unknown = ans[server.id];
    if (!(an instanceof Uint8Array) || an.length !== AN_LENGTH) {
      throw invalidCoin(`${what}: ${option}[${server.id}] must be a Uint8Array of ${AN_LENGTH} bytes (the AN on RAIDA ${server.id})`, {
        ...context,
        option,
        raidaId: server.id,
      });
    }
  }
}

/** Throws `RAIDA_INVALID_COIN` unless `coin` has a valid id and an AN for every configured server. Never echoes an AN. */
function checkRaidaCoin(coin: unknown, servers: readonly RaidaServer[], what: string, index?: number): void {
  if (typeof coin !== 'object' || coin === null)
    throw invalidCoin(`${what} must be an object { denomination, serialNumber, ans }`, index === undefined ? {} : { index });
  assertCoinId(coin as RaidaCoin, index);
  checkAns((coin as RaidaCoin).ans, servers, what, 'ans', index === undefined ? {} : { index });
}

export function checkCoins(coins: unknown, servers: readonly RaidaServer[]): asserts coins is readonly RaidaCoin[] {
  if (!Array.isArray(coins) || coins.length === 0) throw invalidCoin('coins must be a non-empty array', {});
  coins.forEach((coin: unknown, index) => checkRaidaCoin(coin, servers, `Coin ${index}`, index));
}

export function checkNewAns(newAns: unknown, coinCount: number, servers: readonly RaidaServer[]): asserts newAns is readonly RaidaNewAns[] {
  if (!Array.isArray(newAns) || newAns.length !== coinCount) {
    throw invalidCoin(`newAns must be an array with one entry per coin (${coinCount})`, { option: 'newAns' });
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
