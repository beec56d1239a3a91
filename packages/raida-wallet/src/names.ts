import { invalidCoin } from './errors.js';

/** Value in units of 10^−8 (the smallest denomination); key coins (den 7–11) are worth nothing. */
export function denominationUnits(denomination: number): bigint {
  if (denomination < -8 || denomination > 6) return 0n;
  return 10n ** BigInt(denomination + 8);
}

function groupWhole(whole: bigint): string {
  return whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A value in units of 10^−8 as the naming convention writes it: commas every 3 digits in the whole part,
 * a hyphen every 4 digits of the fraction counted from the decimal point, no trailing zeros
 * (`1,000`, `0.001`, `0.0000-0001`, `12,441.0000-034`).
 */
export function formatUnits(units: bigint): string {
  const whole = units / 100_000_000n;
  const fraction = (units % 100_000_000n).toString().padStart(8, '0').replace(/0+$/, '');
  if (fraction === '') return groupWhole(whole);
  const groups = fraction.match(/.{1,4}/g) ?? [];
  return `${groupWhole(whole)}.${groups.join('-')}`;
}

/** Sum of the coins' values, in units of 10^−8. */
export function totalUnits(coins: readonly { readonly denomination: number }[]): bigint {
  return coins.reduce((sum, coin) => sum + denominationUnits(coin.denomination), 0n);
}

const TAG_FORBIDDEN = /['/\\\0<>:"|?*\r\n]/;

/**
 * The file name of `coins` by the CloudCoin naming convention: `<value> CloudCoin #<SN> '<tag>'.bin` for one coin
 * (`Key CloudCoin #<SN> …` for a key coin), `<total value> CloudCoin #<number of coins> '<tag>'.bin` for several.
 * The tag may not contain quotes, path separators or characters file systems refuse.
 */
export function coinFileName(coins: readonly { readonly denomination: number; readonly serialNumber: number }[], tag = ''): string {
  const given: unknown = coins;
  if (!Array.isArray(given) || given.length === 0) throw invalidCoin('coinFileName needs at least one coin');
  if (typeof tag !== 'string' || TAG_FORBIDDEN.test(tag) || tag.length > 100) {
    throw invalidCoin('A file tag is up to 100 characters without quotes, slashes or < > : " | ? *');
  }
  if (coins.length === 1) {
    const coin = coins[0]!;
    const value = coin.denomination > 6 ? 'Key' : formatUnits(denominationUnits(coin.denomination));
    return `${value} CloudCoin #${coin.serialNumber} '${tag}'.bin`;
  }
  return `${formatUnits(totalUnits(coins))} CloudCoin #${coins.length} '${tag}'.bin`;
}
