import { DEFAULT_COIN_ID, MAX_REQUEST_LENGTH, RAIDA_COUNT } from '@x/raida-protocol';
import type { CommandName, CoinId, HealingCommandName } from '@x/raida-protocol';
import type { RandomSeed } from '../random.js';
import { DEFAULT_RAIDA_BEHAVIOR, resolveRaidaBehavior, type RaidaBehaviorPatch, type RaidaServerBehavior } from './behavior.js';
import { checkClusterCoin, coinKey, type ClusterCoin } from './coins.js';
import { checkKeys, integerIn, invalidRaidaOptions, isRecord } from './errors.js';
import { resolveHealingOptions, type RaidaHealingOptions, type ResolvedHealingOptions } from './healing.js';

/** What a server reports once it has decided what to do with a datagram. */
export interface RaidaRequestEvent {
  readonly raidaId: number;
  /**
   * `answered`: a reply is sent (after `delayMs`); `ignored`: too short to answer; `dropped`: down or dropped by
   * `dropRate`; `crashed`: an AES-NI host (`aesNiHost`) got a type-1 request of a crash length, and sends nothing.
   */
  readonly outcome: 'answered' | 'ignored' | 'dropped' | 'crashed';
  /** The command the header named, when it named a known one. */
  readonly command: CommandName | HealingCommandName | undefined;
  /** The status of the reply (answered only). */
  readonly status: number | undefined;
  /** Why the request was rejected or ignored, in words. */
  readonly reason: string | undefined;
  /** Planned delay before the reply (latency draw + slowMs); 0 unless answered. */
  readonly delayMs: number;
  /** Datagram length in bytes. */
  readonly length: number;
  /** Where the datagram came from. */
  readonly from: { readonly address: string; readonly port: number };
}

export interface RaidaClusterOptions {
  /** Number of servers, ids 0 to count − 1. Default 25; 1 to 256. */
  readonly count?: number;
  /** The network coin id the servers accept (others get status 7). Default 6. */
  readonly coinId?: number;
  /** Seed of every random draw (latency, drops). Default 1. */
  readonly seed?: RandomSeed;
  /** The coin table, loaded on every server: one AN for all (`an`) or one per server (`ans`). Default none. */
  readonly coins?: readonly ClusterCoin[];
  /** Datagram size limit; longer requests get status 16. Default 1024; 50 to 65507. */
  readonly maxRequestLength?: number;
  /** Behaviour of every server, under each server's own. Default: an ideal server. */
  readonly behavior?: RaidaBehaviorPatch;
  /** Per-server behaviour by RAIDA id: `{ 3: { down: true } }` or an array indexed by id. */
  readonly behaviors?: Readonly<Record<number, RaidaBehaviorPatch | undefined>> | readonly (RaidaBehaviorPatch | undefined)[];
  /** Called for every datagram once its fate is decided. Exceptions are caught and emitted as process warnings. */
  readonly onRequest?: (event: RaidaRequestEvent) => void;
  /** Tickets, find and fix (get_ticket, validate_ticket between servers, find, fix). Default: as the server intends. */
  readonly healing?: RaidaHealingOptions;
}

export interface ResolvedRaidaOptions {
  readonly count: number;
  readonly coinId: number;
  readonly seed: RandomSeed;
  readonly coins: readonly { readonly id: CoinId; readonly ans: readonly Uint8Array[] }[];
  readonly maxRequestLength: number;
  readonly behaviors: readonly RaidaServerBehavior[];
  readonly onRequest: ((event: RaidaRequestEvent) => void) | undefined;
  readonly healing: ResolvedHealingOptions;
}

const MAX_RAIDA_SERVERS = 256;
const MAX_UDP_PAYLOAD = 65_507;
const MIN_REQUEST_LENGTH = 50;

function seedOf(value: unknown): RandomSeed {
  if (value === undefined) return 1;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string') return value;
  throw invalidRaidaOptions('must be a finite number or a string', 'seed', value);
}

export function resolveRaidaOptions(options: unknown): ResolvedRaidaOptions {
  const given = options ?? {};
  if (!isRecord(given)) throw invalidRaidaOptions('must be an object', 'options', options);
  checkKeys(given, ['count', 'coinId', 'seed', 'coins', 'maxRequestLength', 'behavior', 'behaviors', 'onRequest', 'healing'], 'options');
  const count = given.count === undefined ? RAIDA_COUNT : integerIn(given.count, 'count', 1, MAX_RAIDA_SERVERS);
  const coinId = given.coinId === undefined ? DEFAULT_COIN_ID : integerIn(given.coinId, 'coinId', 0, 0xffff);
  const maxRequestLength =
    given.maxRequestLength === undefined
      ? MAX_REQUEST_LENGTH
      : integerIn(given.maxRequestLength, 'maxRequestLength', MIN_REQUEST_LENGTH, MAX_UDP_PAYLOAD);

  const coinList = given.coins ?? [];
  if (!Array.isArray(coinList)) throw invalidRaidaOptions('must be an array of coins', 'coins', coinList);
  const seen = new Set<string>();
  const coins = (coinList as unknown[]).map((coin, index) => {
    const checked = checkClusterCoin(coin, `coins[${index}]`, count);
    const key = coinKey(checked.id);
    if (seen.has(key))
      throw invalidRaidaOptions(
        `names denomination ${checked.id.denomination}, serial number ${checked.id.serialNumber} twice`,
        `coins[${index}]`,
      );
    seen.add(key);
    return checked;
  });

  const shared = resolveRaidaBehavior(DEFAULT_RAIDA_BEHAVIOR, given.behavior, 'behavior');
  const behaviors: RaidaServerBehavior[] = Array.from({ length: count }, () => shared);
  if (given.behaviors !== undefined) {
    if (typeof given.behaviors !== 'object' || given.behaviors === null) {
      throw invalidRaidaOptions('must be an object or array keyed by RAIDA id', 'behaviors', given.behaviors);
    }
    for (const [key, patch] of Object.entries(given.behaviors)) {
      const id = /^\d+$/.test(key) ? Number(key) : Number.NaN;
      if (!Number.isInteger(id) || id >= count)
        throw invalidRaidaOptions(`has a key that is not a RAIDA id 0..${count - 1}`, 'behaviors', key);
      behaviors[id] = resolveRaidaBehavior(shared, patch, `behaviors[${id}]`);
    }
  }

  if (given.onRequest !== undefined && typeof given.onRequest !== 'function')
    throw invalidRaidaOptions('must be a function', 'onRequest', given.onRequest);
  return {
    count,
    coinId,
    seed: seedOf(given.seed),
    coins,
    maxRequestLength,
    behaviors,
    onRequest: given.onRequest as ((event: RaidaRequestEvent) => void) | undefined,
    healing: resolveHealingOptions(given.healing, count),
  };
}
