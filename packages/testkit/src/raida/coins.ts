import {
  AN_LENGTH,
  MAX_DENOMINATION,
  MAX_SERIAL_NUMBER,
  MIN_DENOMINATION,
  NETWORK_SERIAL_NUMBER_LIMIT,
  RAIDA_COUNT,
} from '@x/raida-protocol';
import type { Coin, CoinId } from '@x/raida-protocol';
import { createRandom, type RandomSeed } from '../random.js';
import { checkKeys, integerIn, invalidRaidaOptions, isRecord } from './errors.js';

/**
 * A coin in the cluster's table: the same `an` on every server, or one AN per server in `ans`
 * (`ans[raidaId]`, exactly one per server).
 */
export interface ClusterCoin {
  readonly denomination: number;
  readonly serialNumber: number;
  readonly an?: Uint8Array;
  readonly ans?: readonly Uint8Array[];
}

/** A coin with the AN each server holds for it: what a wallet keeps, and what the cluster is started with. */
export interface TestCoin {
  readonly denomination: number;
  readonly serialNumber: number;
  /** `ans[raidaId]`: the AN for that server. */
  readonly ans: readonly Uint8Array[];
}

export interface TestCoinOptions {
  /** How many servers the coins are for (one AN each). Default 25. */
  readonly raidaCount?: number;
  /** Denomination of every coin, −8 to 6. Default 1. */
  readonly denomination?: number;
}

/** The table key of a coin: denomination and serial number together name a coin. */
export function coinKey(coin: CoinId): string {
  return `${coin.denomination}:${coin.serialNumber}`;
}

export function checkCoinId(value: unknown, field: string): CoinId {
  if (!isRecord(value)) throw invalidRaidaOptions('must be a coin { denomination, serialNumber }', field, value);
  return {
    denomination: integerIn(value.denomination, `${field}.denomination`, MIN_DENOMINATION, MAX_DENOMINATION),
    serialNumber: integerIn(value.serialNumber, `${field}.serialNumber`, 0, MAX_SERIAL_NUMBER),
  };
}

export function checkAn(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== AN_LENGTH) {
    throw invalidRaidaOptions(`must be a Uint8Array of ${AN_LENGTH} bytes`, field, value);
  }
  return value.slice();
}

/** Validates a {@link ClusterCoin} for a cluster of `raidaCount` servers; returns its id and one AN copy per server. */
export function checkClusterCoin(value: unknown, field: string, raidaCount: number): { id: CoinId; ans: Uint8Array[] } {
  const id = checkCoinId(value, field);
  const coin = value as Record<string, unknown>;
  checkKeys(coin, ['denomination', 'serialNumber', 'an', 'ans'], field);
  if ((coin.an === undefined) === (coin.ans === undefined)) {
    throw invalidRaidaOptions('needs exactly one of "an" (one AN for every server) or "ans" (one per server)', field);
  }
  if (coin.an !== undefined) {
    const an = checkAn(coin.an, `${field}.an`);
    return { id, ans: Array.from({ length: raidaCount }, () => an.slice()) };
  }
  if (!Array.isArray(coin.ans) || coin.ans.length !== raidaCount) {
    throw invalidRaidaOptions(`must be an array of ${raidaCount} ANs, one per server`, `${field}.ans`, coin.ans);
  }
  return { id, ans: (coin.ans as unknown[]).map((an, raidaId) => checkAn(an, `${field}.ans[${raidaId}]`)) };
}

function checkTestCoin(value: unknown, field: string): TestCoin {
  const id = checkCoinId(value, field);
  const ans = (value as Record<string, unknown>).ans;
  if (!Array.isArray(ans) || ans.length === 0) throw invalidRaidaOptions('must be a non-empty array of ANs', `${field}.ans`, ans);
  return { ...id, ans: (ans as unknown[]).map((an, raidaId) => checkAn(an, `${field}.ans[${raidaId}]`)) };
}

/**
 * `n` coins with distinct serial numbers (below the network's 1,024,000) and a random AN per coin
 * per server, all drawn from `seed`: the same seed always gives the same coins.
 * Start a cluster with them (`coins: createTestCoins(...)`) and send `coinForRaida(coin, id)` to each server.
 */
export function createTestCoins(n: number, seed: RandomSeed = 1, options: TestCoinOptions = {}): TestCoin[] {
  integerIn(n, 'createTestCoins(n)', 0, 100_000);
  if (!isRecord(options)) throw invalidRaidaOptions('must be an object', 'createTestCoins(options)', options);
  checkKeys(options, ['raidaCount', 'denomination'], 'createTestCoins(options)');
  const raidaCount =
    options.raidaCount === undefined ? RAIDA_COUNT : integerIn(options.raidaCount, 'createTestCoins(options).raidaCount', 1, 256);
  const denomination =
    options.denomination === undefined
      ? 1
      : integerIn(options.denomination, 'createTestCoins(options).denomination', MIN_DENOMINATION, MAX_DENOMINATION);
  const random = createRandom(seed);
  const serials = random.fork('serial-numbers');
  const used = new Set<number>();
  const coins: TestCoin[] = [];
  for (let index = 0; index < n; index++) {
    let serialNumber = serials.int(1, NETWORK_SERIAL_NUMBER_LIMIT - 1);
    while (used.has(serialNumber)) serialNumber = serials.int(1, NETWORK_SERIAL_NUMBER_LIMIT - 1);
    used.add(serialNumber);
    const anRandom = random.fork(`ans:${index}`);
    coins.push({ denomination, serialNumber, ans: Array.from({ length: raidaCount }, () => anRandom.bytes(AN_LENGTH)) });
  }
  return coins;
}

/** The coin to send to one server: denomination, serial number and that server's AN. */
export function coinForRaida(coin: TestCoin, raidaId: number): Coin {
  const checked = checkTestCoin(coin, 'coinForRaida(coin)');
  integerIn(raidaId, 'coinForRaida(raidaId)', 0, checked.ans.length - 1);
  return { denomination: checked.denomination, serialNumber: checked.serialNumber, an: checked.ans[raidaId] as Uint8Array };
}

function invert(an: Uint8Array): Uint8Array {
  return an.map((byte) => byte ^ 0xff);
}

/**
 * A copy of `coin` whose ANs differ from the original on the given servers (every bit inverted, so
 * they can never match by chance). Give the original to the cluster and the copy to the client:
 * those servers fail the coin, the others pass it — a fracked coin.
 */
export function frackCoin(coin: TestCoin, raidaIds: readonly number[]): TestCoin {
  const checked = checkTestCoin(coin, 'frackCoin(coin)');
  if (!Array.isArray(raidaIds)) throw invalidRaidaOptions('must be an array of RAIDA ids', 'frackCoin(raidaIds)', raidaIds);
  const ids = new Set(raidaIds.map((id, index) => integerIn(id, `frackCoin(raidaIds)[${index}]`, 0, checked.ans.length - 1)));
  return { ...checked, ans: checked.ans.map((an, raidaId) => (ids.has(raidaId) ? invert(an) : an)) };
}

/** A copy of `coin` whose every AN is wrong: every server fails it. */
export function counterfeitCoin(coin: TestCoin): TestCoin {
  const checked = checkTestCoin(coin, 'counterfeitCoin(coin)');
  return { ...checked, ans: checked.ans.map(invert) };
}
