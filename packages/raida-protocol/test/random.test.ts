import { describe, expect, it } from 'vitest';
import { createBufferedRandom } from '@x/raida-protocol';
import { expectXError } from './helpers.js';

/** A source that counts its calls and returns 0, 1, 2, … so slices can be traced back to it. */
function countingSource() {
  let next = 0;
  const calls: number[] = [];
  const source = (n: number): Uint8Array => {
    calls.push(n);
    return Uint8Array.from({ length: n }, () => next++ & 0xff);
  };
  return { source, calls };
}

describe('createBufferedRandom', () => {
  it('serves many small draws from one call to the source, in order and without overlap', () => {
    const { source, calls } = countingSource();
    const random = createBufferedRandom({ source, bufferBytes: 32 });
    const draws = [random(12), random(2), random(16)];
    expect(calls).toEqual([32]);
    expect(Array.from(draws[0]!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(draws[1]!)).toEqual([12, 13]);
    expect(Array.from(draws[2]!)).toEqual([14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    // The remaining 2 bytes cannot serve 12: a fresh block is drawn.
    expect(Array.from(random(12))).toEqual([32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43]);
    expect(calls).toEqual([32, 32]);
  });

  it('never rewrites bytes it already handed out', () => {
    const random = createBufferedRandom({ bufferBytes: 16 });
    const first = random(16);
    const copy = first.slice();
    for (let i = 0; i < 10; i++) random(16);
    expect(first).toEqual(copy);
  });

  it('passes draws larger than a block straight to the source', () => {
    const { source, calls } = countingSource();
    const random = createBufferedRandom({ source, bufferBytes: 8 });
    expect(random(20)).toHaveLength(20);
    expect(calls).toEqual([20]);
  });

  it('rejects bad options and a source that breaks its contract', () => {
    expectXError(() => createBufferedRandom({ bufferBytes: 0 }), 'RAIDA_INVALID_OPTION', 'config');
    expectXError(() => createBufferedRandom({ source: 'x' as never }), 'RAIDA_INVALID_OPTION', 'config');
    const short = createBufferedRandom({ source: () => new Uint8Array(3), bufferBytes: 8 });
    expectXError(() => short(4), 'RAIDA_INVALID_RANDOM', 'config');
  });
});
