import { XError } from '@x/errors';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

/** What a seeded stream can be started from: any finite number or any string (hashed). */
export type RandomSeed = number | string;

/**
 * A seeded, reproducible stream of random values. Every method advances the stream, so the same
 * seed and the same sequence of calls always give the same values.
 */
export interface Random {
  /** A float in [0, 1) with 53 random bits. */
  readonly next: () => number;
  /** An integer in [min, max], both included. */
  readonly int: (min: number, max: number) => number;
  /** A float in [min, max). */
  readonly uniform: (min: number, max: number) => number;
  /** A standard normal deviate (mean 0, standard deviation 1), by Box–Muller. */
  readonly normal: () => number;
  /**
   * A log-normal deviate with the given median and shape: `medianMs * exp(sigma * normal())`.
   * `sigma` 0 always gives the median; 0.5 gives a p99 about 3.2× the median; 1 about 10×.
   */
  readonly lognormal: (medianMs: number, sigma: number) => number;
  /** True with probability `p` (0 never, 1 always). */
  readonly chance: (p: number) => boolean;
  /** One element of a non-empty array, uniformly. */
  readonly pick: <T>(items: readonly T[]) => T;
  /** `length` random bytes; fits wherever a `(n) => Uint8Array` random source is injected. */
  readonly bytes: (length: number) => Uint8Array;
  /**
   * An independent stream identified by `label`. It depends only on this stream's seed and the
   * label path, never on how many values were drawn before, so adding a draw in one forked stream
   * (one endpoint, say) never shifts the values of another.
   */
  readonly fork: (label: string) => Random;
}

function invalidArgument(message: string, context: Record<string, unknown>): XError {
  return new XError({ code: 'TESTKIT_INVALID_ARGUMENT', category: 'config', message, context });
}

// Two independent 32-bit FNV-1a style lanes with murmur finalisers: a 64-bit key per label path,
// enough to make collisions between a handful of labels practically impossible.
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

type Key = readonly [number, number];

function hashText(text: string, key: Key): Key {
  let a = key[0] ^ 0x811c9dc5;
  let b = key[1] ^ 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
  }
  a = mix32(a ^ text.length);
  b = mix32(b ^ Math.imul(text.length, 0x9e3779b1));
  return [mix32(a ^ b), mix32(b + Math.imul(a, 0x27d4eb2f))];
}

function keyOfSeed(seed: RandomSeed): Key {
  if (typeof seed === 'string') return hashText(`s:${seed}`, [0x3c6ef372, 0x1b873593]);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw invalidArgument('A random seed must be a finite number or a string', { seed: String(seed) });
  }
  // Keep every bit of a float or a large integer seed: 1 and 1.5 must not collide.
  return hashText(`n:${String(seed)}`, [0x9e3779b9, 0x7f4a7c15]);
}

// SplitMix32 expansion of the 64-bit key into xoroshiro128+'s four 32-bit words; the state is
// never all zero (the one state that generator cannot leave).
function stateOfKey(key: Key): number[] {
  let x = key[0] ^ mix32(key[1]);
  const state: number[] = [];
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) | 0;
    state.push(mix32(x ^ Math.imul(key[1], i + 1)));
  }
  if (!state.some((word) => word !== 0)) state[0] = 1;
  return state;
}

function checkFinite(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidArgument(`${name} must be a finite number`, { [name]: value });
  }
}

function fromKey(key: Key): Random {
  const rng = xoroshiro128plusFromState(stateOfKey(key));
  const next = (): number => uniformFloat64(rng);
  const normal = (): number => {
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    int(min, max) {
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
        throw invalidArgument('int(min, max) needs safe integers with min <= max', { min, max });
      }
      return uniformInt(rng, min, max);
    },
    uniform(min, max) {
      checkFinite('min', min);
      checkFinite('max', max);
      if (min > max) throw invalidArgument('uniform(min, max) needs min <= max', { min, max });
      return min + (max - min) * next();
    },
    normal,
    lognormal(medianMs, sigma) {
      checkFinite('medianMs', medianMs);
      checkFinite('sigma', sigma);
      if (medianMs < 0 || sigma < 0) {
        throw invalidArgument('lognormal(medianMs, sigma) needs medianMs >= 0 and sigma >= 0', { medianMs, sigma });
      }
      return medianMs * Math.exp(sigma * normal());
    },
    chance(p) {
      checkFinite('p', p);
      if (p < 0 || p > 1) throw invalidArgument('chance(p) needs 0 <= p <= 1', { p });
      // Always draw, so the stream advances the same way whatever p is.
      return next() < p;
    },
    pick<T>(items: readonly T[]): T {
      if (!Array.isArray(items) || items.length === 0) {
        throw invalidArgument('pick(items) needs a non-empty array', { length: Array.isArray(items) ? 0 : undefined });
      }
      return items[uniformInt(rng, 0, items.length - 1)] as T;
    },
    bytes(length) {
      if (!Number.isSafeInteger(length) || length < 0) throw invalidArgument('bytes(length) needs an integer >= 0', { length });
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i += 4) {
        const word = rng.next();
        for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
      }
      return out;
    },
    fork(label) {
      if (typeof label !== 'string') throw invalidArgument('fork(label) needs a string label', { label: String(label) });
      return fromKey(hashText(`f:${label}`, key));
    },
  };
}

/**
 * A seeded random stream (xoroshiro128+ from `pure-rand`). The same seed gives the same values on
 * every machine and Node version; different seeds and different fork labels give independent streams.
 */
export function createRandom(seed: RandomSeed): Random {
  return fromKey(keyOfSeed(seed));
}
