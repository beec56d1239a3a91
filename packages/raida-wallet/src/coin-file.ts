import { AN_LENGTH } from '@x/raida-protocol';
import { badCoinFile, invalidCoin } from './errors.js';
import { POWN_LETTERS, decodePownString, encodePownString } from './pown.js';

/** Byte 0 of a format 9 file as written. Readers also accept ASCII `'9'` (0x39), which one older client writes. */
export const COIN_FILE_FORMAT = 0x09;
/** Byte 0 as the older Android client wrote it (ASCII `'9'`). Accepted on read, never written. */
export const COIN_FILE_FORMAT_ASCII = 0x39;
/** File header bytes 2–3: the CloudCoin network. Files of any other coin id are rejected. */
export const CLOUDCOIN_COIN_ID = 6;
/** Servers of the RAIDA, and so ANs per coin. */
export const COIN_FILE_RAIDA_COUNT = 25;
export const FILE_HEADER_LENGTH = 32;
export const COIN_HEADER_LENGTH = 7;
/** One coin record without PANs: coin header (7) + 25 ANs (400). */
export const COIN_RECORD_LENGTH = COIN_HEADER_LENGTH + COIN_FILE_RAIDA_COUNT * AN_LENGTH;
/** One coin record with PANs (header byte 15 bit 0 set): 807. */
export const COIN_RECORD_WITH_PANS_LENGTH = COIN_RECORD_LENGTH + COIN_FILE_RAIDA_COUNT * AN_LENGTH;
/** A one-coin file: 439 bytes, or 839 with PANs. */
export const ONE_COIN_FILE_LENGTH = FILE_HEADER_LENGTH + COIN_RECORD_LENGTH;
export const ONE_COIN_FILE_WITH_PANS_LENGTH = FILE_HEADER_LENGTH + COIN_RECORD_WITH_PANS_LENGTH;
/** Most coins one file can hold (the count is a u16). */
export const MAX_COINS_PER_FILE = 0xffff;
/** Denominations a file may carry: −8…6 are money (10^den), 7–11 key coins (worth nothing). */
export const MIN_FILE_DENOMINATION = -8;
export const MAX_FILE_DENOMINATION = 11;
/** Header bytes 16–31 of a many-coin file: the motto. */
const MOTTO = new TextEncoder().encode('Live Free or Die');
/** The task id a one-coin file carries in bytes 29–31 when none is given. */
const DEFAULT_TASK_ID = Object.freeze([0x99, 0x99, 0x99]);

/**
 * A coin as the wallet keeps it: its identity, the AN each RAIDA holds (`ans[i]` for RAIDA i, 25 of them),
 * the proposed ANs of a pown whose outcome is not known yet (`pans`, limbo coins only), and the pown string:
 * one letter per RAIDA (`p` pass, `f` fail, `n` no reply, `u` untried, `e` error, `b` broken key, `d` dropped).
 */
export interface WalletCoin {
  readonly denomination: number;
  readonly serialNumber: number;
  readonly ans: readonly Uint8Array[];
  readonly pans?: readonly Uint8Array[];
  readonly pown: string;
}

export interface EncodeCoinFileOptions {
  /** Bytes 29–31 of a one-coin file. Default `99 99 99`. */
  readonly taskId?: Uint8Array;
}

function checkAnList(list: unknown, what: string, index: number): void {
  if (!Array.isArray(list) || list.length !== COIN_FILE_RAIDA_COUNT) {
    throw invalidCoin(`Coin ${index}: ${what} must be an array of ${COIN_FILE_RAIDA_COUNT} ANs, one per RAIDA`, { index, option: what });
  }
  list.forEach((an: unknown, raidaId) => {
    if (!(an instanceof Uint8Array) || an.length !== AN_LENGTH) {
      throw invalidCoin(`Coin ${index}: ${what}[${raidaId}] must be a Uint8Array of ${AN_LENGTH} bytes`, { index, option: what, raidaId });
    }
  });
}

/** Throws `WALLET_INVALID_COIN` unless `coin` can be written to a format 9 file. Never quotes an AN. */
export function assertWalletCoin(coin: WalletCoin, index = 0): void {
  if (typeof coin !== 'object' || coin === null) throw invalidCoin(`Coin ${index} must be an object`, { index });
  const { denomination, serialNumber } = coin;
  if (!Number.isInteger(denomination) || denomination < MIN_FILE_DENOMINATION || denomination > MAX_FILE_DENOMINATION) {
    throw invalidCoin(`Coin ${index}: denomination must be an integer from ${MIN_FILE_DENOMINATION} to ${MAX_FILE_DENOMINATION}`, {
      index,
    });
  }
  if (!Number.isInteger(serialNumber) || serialNumber < 0 || serialNumber > 0xffffffff) {
    throw invalidCoin(`Coin ${index}: serial number must be an integer from 0 to 4294967295`, { index });
  }
  checkAnList(coin.ans, 'ans', index);
  if (coin.pans !== undefined) checkAnList(coin.pans, 'pans', index);
  if (
    typeof coin.pown !== 'string' ||
    coin.pown.length !== COIN_FILE_RAIDA_COUNT ||
    [...coin.pown].some((letter) => !POWN_LETTERS.includes(letter))
  ) {
    throw invalidCoin(`Coin ${index}: pown must be ${COIN_FILE_RAIDA_COUNT} letters from "${POWN_LETTERS.join('')}"`, { index });
  }
}

/**
 * The bytes of a format 9 file holding `coins`: file header (32) ‖ one record per coin (coin header 7 ‖ 25 ANs ‖
 * 25 PANs when any coin has them). A one-coin file carries the pown string (bytes 16–28) and task id (29–31);
 * a many-coin file carries the motto instead. Either every coin has PANs or none does.
 * Throws `WALLET_INVALID_COIN` (config).
 */
export function encodeCoinFile(list: readonly WalletCoin[], options: EncodeCoinFileOptions = {}): Uint8Array {
  const given: unknown = list;
  if (!Array.isArray(given) || given.length === 0 || given.length > MAX_COINS_PER_FILE) {
    throw invalidCoin(`A coin file holds 1 to ${MAX_COINS_PER_FILE} coins`, { count: Array.isArray(given) ? given.length : 0 });
  }
  const coins = list;
  coins.forEach((coin, index) => assertWalletCoin(coin, index));
  const withPans = coins[0]!.pans !== undefined;
  if (coins.some((coin) => (coin.pans !== undefined) !== withPans)) {
    throw invalidCoin('Either every coin of a file has PANs or none does', { count: coins.length });
  }
  const seen = new Set<string>();
  coins.forEach((coin, index) => {
    const key = `${coin.denomination}:${coin.serialNumber}`;
    if (seen.has(key))
      throw invalidCoin(`Coin ${index} (denomination ${coin.denomination}, serial number ${coin.serialNumber}) is in the list twice`, {
        index,
      });
    seen.add(key);
  });
  const taskId = options.taskId ?? Uint8Array.from(DEFAULT_TASK_ID);
  if (!(taskId instanceof Uint8Array) || taskId.length !== 3) throw invalidCoin('taskId must be a Uint8Array of 3 bytes');

  const recordLength = withPans ? COIN_RECORD_WITH_PANS_LENGTH : COIN_RECORD_LENGTH;
  const out = new Uint8Array(FILE_HEADER_LENGTH + coins.length * recordLength);
  out[0] = COIN_FILE_FORMAT;
  out[1] = 1;
  out[2] = (CLOUDCOIN_COIN_ID >>> 8) & 0xff;
  out[3] = CLOUDCOIN_COIN_ID & 0xff;
  out[6] = (coins.length >>> 8) & 0xff;
  out[7] = coins.length & 0xff;
  out[15] = withPans ? 1 : 0;
  if (coins.length === 1) {
    out.set(encodePownString(coins[0]!.pown), 16);
    out.set(taskId, 29);
  } else {
    out.set(MOTTO, 16);
  }
  coins.forEach((coin, index) => {
    const at = FILE_HEADER_LENGTH + index * recordLength;
    out[at + 2] = coin.denomination & 0xff;
    out[at + 3] = (coin.serialNumber >>> 24) & 0xff;
    out[at + 4] = (coin.serialNumber >>> 16) & 0xff;
    out[at + 5] = (coin.serialNumber >>> 8) & 0xff;
    out[at + 6] = coin.serialNumber & 0xff;
    coin.ans.forEach((an, raidaId) => out.set(an, at + COIN_HEADER_LENGTH + raidaId * AN_LENGTH));
    coin.pans?.forEach((pan, raidaId) => out.set(pan, at + COIN_RECORD_LENGTH + raidaId * AN_LENGTH));
  });
  return out;
}

function readU16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

/**
 * Reads a format 9 file. `file` names it in errors (a path or a display name). Denomination and serial number come
 * from the bytes, never from the name. A one-coin file's pown string is read from bytes 16–28; coins of a many-coin
 * file get `u` (untried) for every RAIDA. Throws `WALLET_BAD_COIN_FILE` (config), naming the file and what is wrong
 * (truncated, wrong format or coin id, encrypted, a count that does not match the size, a bad denomination, a coin
 * twice); the message never contains an AN.
 */
export function decodeCoinFile(bytes: Uint8Array, file: string): WalletCoin[] {
  if (!(bytes instanceof Uint8Array)) throw badCoinFile(file, 'not a byte array');
  if (bytes.length < FILE_HEADER_LENGTH) {
    throw badCoinFile(file, `truncated: ${bytes.length} bytes, shorter than the ${FILE_HEADER_LENGTH}-byte file header`, {
      length: bytes.length,
    });
  }
  const format = bytes[0]!;
  if (format !== COIN_FILE_FORMAT && format !== COIN_FILE_FORMAT_ASCII) {
    throw badCoinFile(file, `not a format 9 coin file (byte 0 is 0x${format.toString(16).padStart(2, '0')}, expected 0x09)`, { format });
  }
  const coinId = readU16(bytes, 2);
  if (coinId !== CLOUDCOIN_COIN_ID) {
    throw badCoinFile(file, `coin id ${coinId} is not CloudCoin (${CLOUDCOIN_COIN_ID}); this wallet holds CloudCoins only`, { coinId });
  }
  const encryption = bytes[5]!;
  if (encryption !== 0) {
    throw badCoinFile(
      file,
      `encrypted (encryption type ${encryption}); encrypted coin files are not supported, decrypt it with the wallet that made it`,
      {
        encryption,
      },
    );
  }
  const count = readU16(bytes, 6);
  if (count === 0) throw badCoinFile(file, 'the header says it holds 0 coins', { count });
  const withPans = ((bytes[15] ?? 0) & 1) === 1;
  const recordLength = withPans ? COIN_RECORD_WITH_PANS_LENGTH : COIN_RECORD_LENGTH;
  const expected = FILE_HEADER_LENGTH + count * recordLength;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'longer than its header says';
    throw badCoinFile(
      file,
      `${what}: ${bytes.length} bytes, but a count of ${count} coin${count === 1 ? '' : 's'} of ${recordLength} bytes${withPans ? ' (with PANs)' : ''} needs ${expected}`,
      { length: bytes.length, expected, count },
    );
  }
  const pown = count === 1 ? decodePownString(bytes.subarray(16, 29)) : 'u'.repeat(COIN_FILE_RAIDA_COUNT);
  const seen = new Map<string, number>();
  const coins: WalletCoin[] = [];
  for (let index = 0; index < count; index++) {
    const at = FILE_HEADER_LENGTH + index * recordLength;
    const raw = bytes[at + 2]!;
    const denomination = raw > 127 ? raw - 256 : raw;
    const serialNumber = ((bytes[at + 3]! << 24) >>> 0) + ((bytes[at + 4]! << 16) | (bytes[at + 5]! << 8) | bytes[at + 6]!);
    if (denomination < MIN_FILE_DENOMINATION || denomination > MAX_FILE_DENOMINATION) {
      throw badCoinFile(
        file,
        `coin ${index}: denomination byte 0x${raw.toString(16).padStart(2, '0')} is not a CloudCoin denomination (−8 to 11)`,
        { index },
      );
    }
    const key = `${denomination}:${serialNumber}`;
    const earlier = seen.get(key);
    if (earlier !== undefined)
      throw badCoinFile(file, `coin ${index} (serial number ${serialNumber}) is the same coin as coin ${earlier}`, { index });
    seen.set(key, index);
    const ans: Uint8Array[] = [];
    for (let raidaId = 0; raidaId < COIN_FILE_RAIDA_COUNT; raidaId++) {
      const offset = at + COIN_HEADER_LENGTH + raidaId * AN_LENGTH;
      ans.push(bytes.slice(offset, offset + AN_LENGTH));
    }
    let pans: Uint8Array[] | undefined;
    if (withPans) {
      pans = [];
      for (let raidaId = 0; raidaId < COIN_FILE_RAIDA_COUNT; raidaId++) {
        const offset = at + COIN_RECORD_LENGTH + raidaId * AN_LENGTH;
        pans.push(bytes.slice(offset, offset + AN_LENGTH));
      }
    }
    coins.push({ denomination, serialNumber, ans, ...(pans === undefined ? {} : { pans }), pown });
  }
  return coins;
}
