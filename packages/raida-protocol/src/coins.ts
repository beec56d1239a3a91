import { readI8, readU32, writeU32 } from './bytes.js';
import { invalidInput, protocolError } from './errors.js';

/** Smallest denomination (value 10^−8). */
export const MIN_DENOMINATION = -8;
/** Largest denomination (value 10^6). */
export const MAX_DENOMINATION = 6;
/** Serial numbers are u32 on the wire. */
export const MAX_SERIAL_NUMBER = 0xffffffff;
/** Serial numbers the CloudCoin network actually issues are below this. */
export const NETWORK_SERIAL_NUMBER_LIMIT = 1_024_000;
/** Length of an authenticity number (AN) and of a proposed AN (PAN). */
export const AN_LENGTH = 16;
/** Wire length of one detect coin record: den (1) ‖ sn (4) ‖ an (16). */
export const DETECT_COIN_LENGTH = 21;
/** Wire length of one pown coin record: den (1) ‖ sn (4) ‖ an (16) ‖ pan (16). */
export const POWN_COIN_LENGTH = 37;

/** A coin as one RAIDA knows it: denomination (int8, value 10^den), serial number and this RAIDA's AN. */
export interface Coin {
  readonly denomination: number;
  readonly serialNumber: number;
  readonly an: Uint8Array;
}

/** A coin to pown: its current AN on this RAIDA and the proposed new AN (PAN). */
export interface PownCoin extends Coin {
  readonly pan: Uint8Array;
}

/** The identity of a coin, without secrets: what an encryption key coin is named by. */
export interface CoinId {
  readonly denomination: number;
  readonly serialNumber: number;
}

function invalidCoin(message: string, index: number | undefined, option: string): never {
  const where = index === undefined ? 'Coin' : `Coin ${index}`;
  throw invalidInput('RAIDA_INVALID_COIN', `${where}: ${message}`, index === undefined ? { option } : { index, option });
}

/** Throws `RAIDA_INVALID_COIN` unless `coin` names a valid denomination and serial number. */
export function assertCoinId(coin: CoinId, index?: number): void {
  if (typeof coin !== 'object' || coin === null) invalidCoin('must be an object', index, 'coin');
  const { denomination, serialNumber } = coin;
  if (
    typeof denomination !== 'number' ||
    !Number.isInteger(denomination) ||
    denomination < MIN_DENOMINATION ||
    denomination > MAX_DENOMINATION
  ) {
    invalidCoin(`denomination must be an integer from ${MIN_DENOMINATION} to ${MAX_DENOMINATION}`, index, 'denomination');
  }
  if (typeof serialNumber !== 'number' || !Number.isInteger(serialNumber) || serialNumber < 0 || serialNumber > MAX_SERIAL_NUMBER) {
    invalidCoin('serial number must be an integer from 0 to 4294967295', index, 'serialNumber');
  }
}

/** Throws `RAIDA_INVALID_COIN` unless `coin` is a valid {@link Coin}. The message never contains the AN. */
export function assertCoin(coin: Coin, index?: number): void {
  assertCoinId(coin, index);
  if (!(coin.an instanceof Uint8Array) || coin.an.length !== AN_LENGTH)
    invalidCoin(`an must be a Uint8Array of ${AN_LENGTH} bytes`, index, 'an');
}

/** Throws `RAIDA_INVALID_COIN` unless `coin` is a valid {@link PownCoin}. */
export function assertPownCoin(coin: PownCoin, index?: number): void {
  assertCoin(coin, index);
  if (!(coin.pan instanceof Uint8Array) || coin.pan.length !== AN_LENGTH)
    invalidCoin(`pan must be a Uint8Array of ${AN_LENGTH} bytes`, index, 'pan');
}

/** The value of a denomination, 10^den. */
export function denominationValue(denomination: number): number {
  return 10 ** denomination;
}

function writeCoinId(out: Uint8Array, offset: number, coin: CoinId): void {
  out[offset] = coin.denomination & 0xff;
  writeU32(out, offset + 1, coin.serialNumber);
}

/** Detect payload: `n × [den ‖ sn ‖ an]`. Validates every coin first. */
export function encodeDetectCoins(coins: readonly Coin[]): Uint8Array {
  coins.forEach((coin, index) => assertCoin(coin, index));
  const out = new Uint8Array(coins.length * DETECT_COIN_LENGTH);
  coins.forEach((coin, index) => {
    const offset = index * DETECT_COIN_LENGTH;
    writeCoinId(out, offset, coin);
    out.set(coin.an, offset + 5);
  });
  return out;
}

/** Pown payload: `n × [den ‖ sn ‖ an ‖ pan]`. Validates every coin first. */
export function encodePownCoins(coins: readonly PownCoin[]): Uint8Array {
  coins.forEach((coin, index) => assertPownCoin(coin, index));
  const out = new Uint8Array(coins.length * POWN_COIN_LENGTH);
  coins.forEach((coin, index) => {
    const offset = index * POWN_COIN_LENGTH;
    writeCoinId(out, offset, coin);
    out.set(coin.an, offset + 5);
    out.set(coin.pan, offset + 21);
  });
  return out;
}

function requireRecordMultiple(payload: Uint8Array, recordLength: number, what: string): number {
  if (payload.length % recordLength !== 0) {
    throw protocolError('RAIDA_REQUEST_MALFORMED', `A ${what} payload must be a multiple of ${recordLength} bytes`, {
      payloadLength: payload.length,
    });
  }
  return payload.length / recordLength;
}

/**
 * Coins of a detect payload, exactly as sent (no range checks: a server answers unknown coins
 * with "fail", it does not reject them). Throws `RAIDA_REQUEST_MALFORMED` on a partial record.
 */
export function decodeDetectCoins(payload: Uint8Array): Coin[] {
  const count = requireRecordMultiple(payload, DETECT_COIN_LENGTH, 'detect');
  const coins: Coin[] = [];
  for (let i = 0; i < count; i++) {
    const offset = i * DETECT_COIN_LENGTH;
    coins.push({
      denomination: readI8(payload, offset),
      serialNumber: readU32(payload, offset + 1),
      an: payload.slice(offset + 5, offset + 21),
    });
  }
  return coins;
}

/** Coins of a pown payload, exactly as sent. Throws `RAIDA_REQUEST_MALFORMED` on a partial record. */
export function decodePownCoins(payload: Uint8Array): PownCoin[] {
  const count = requireRecordMultiple(payload, POWN_COIN_LENGTH, 'pown');
  const coins: PownCoin[] = [];
  for (let i = 0; i < count; i++) {
    const offset = i * POWN_COIN_LENGTH;
    coins.push({
      denomination: readI8(payload, offset),
      serialNumber: readU32(payload, offset + 1),
      an: payload.slice(offset + 5, offset + 21),
      pan: payload.slice(offset + 21, offset + 37),
    });
  }
  return coins;
}

/** Bytes of a verdict bitfield for `count` coins: ⌈count/8⌉. */
export function bitfieldLength(count: number): number {
  return Math.ceil(count / 8);
}

/** Status-243 bitfield: coin i passes when bit (i % 8) of byte ⌊i/8⌋ is set, least-significant bit first. */
export function encodeVerdictBitfield(verdicts: readonly boolean[]): Uint8Array {
  const out = new Uint8Array(bitfieldLength(verdicts.length));
  verdicts.forEach((passed, i) => {
    if (passed) out[i >> 3] = (out[i >> 3] ?? 0) | (1 << (i & 7));
  });
  return out;
}

/**
 * Per-coin verdicts (`true` = authentic) of a status-243 bitfield. Throws `RAIDA_REPLY_BAD_BODY`
 * (category protocol) unless the bitfield is exactly ⌈count/8⌉ bytes.
 */
export function decodeVerdictBitfield(bitfield: Uint8Array, count: number): boolean[] {
  if (bitfield.length !== bitfieldLength(count)) {
    throw protocolError(
      'RAIDA_REPLY_BAD_BODY',
      `A verdict bitfield for ${count} coins must be ${bitfieldLength(count)} bytes, got ${bitfield.length}`,
      {
        coinCount: count,
        bodyLength: bitfield.length,
      },
    );
  }
  const verdicts: boolean[] = [];
  for (let i = 0; i < count; i++) verdicts.push((((bitfield[i >> 3] ?? 0) >> (i & 7)) & 1) === 1);
  return verdicts;
}
