import { AN_LENGTH, defaultRandom } from '@x/raida-protocol';
import type { RandomSource } from '@x/raida-protocol';
import { invalidOptions } from './errors.js';

/**
 * `count` fresh random 16-byte ANs (one per RAIDA id), e.g. the `newAns` of a coin to pown. Keep
 * them before you pown: they are the coin from then on.
 */
export function randomAns(count: number, random: RandomSource = defaultRandom): Uint8Array[] {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 256) {
    throw invalidOptions('count', 'randomAns: count must be an integer from 1 to 256', count);
  }
  if (typeof random !== 'function') throw invalidOptions('random', 'randomAns: random must be a function (n) => Uint8Array', random);
  const ans: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const an = random(AN_LENGTH);
    if (!(an instanceof Uint8Array) || an.length !== AN_LENGTH) {
      throw invalidOptions('random', `randomAns: the random source must return a Uint8Array of ${AN_LENGTH} bytes`);
    }
    ans.push(an.slice());
  }
  return ans;
}
