import { invalidOptions } from './errors.js';
import type { HedgeBudget, HedgeBudgetSnapshot } from './types.js';

/**
 * The one default hedge budget (`createHedgeBudget()` and every `@x/pool`): hedges on at most 10 % of
 * calls, plus a reserve of 5 a second so that stalls arriving together, or a quiet client, still get
 * their hedge; at most 10 saved up.
 */
export const DEFAULT_HEDGE_BUDGET: Readonly<{ ratio: number; minPerSecond: number; burst: number }> = Object.freeze({
  ratio: 0.1,
  minPerSecond: 5,
  burst: 10,
});

export interface HedgeBudgetOptions {
  /** Extra attempts earned per call: hedges stay at most this share of calls. Default 0.1 (10 %). */
  readonly ratio?: number;
  /** Extra attempts earned per second regardless of traffic, so quiet clients can still hedge. Default 5. */
  readonly minPerSecond?: number;
  /** Most extra attempts that can be saved up for a burst. Default 10. */
  readonly burst?: number;
  /** Clock in milliseconds. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * A token bucket shared by many calls: every call earns `ratio` of an extra attempt, every second
 * earns `minPerSecond`, the balance never exceeds `burst`, and every hedge spends one. It starts
 * empty, so over any stretch of time the hedges started are at most
 * `ratio × calls + minPerSecond × seconds + burst` — hedging cannot multiply load in a storm.
 */
export function createHedgeBudget(options: HedgeBudgetOptions = {}): HedgeBudget {
  const ratio = options.ratio ?? DEFAULT_HEDGE_BUDGET.ratio;
  const minPerSecond = options.minPerSecond ?? DEFAULT_HEDGE_BUDGET.minPerSecond;
  const burst = options.burst ?? DEFAULT_HEDGE_BUDGET.burst;
  const now = options.now ?? (() => performance.now());
  if (!isNonNegative(ratio)) throw invalidOptions('ratio', 'createHedgeBudget: ratio must be a finite number ≥ 0', ratio);
  if (!isNonNegative(minPerSecond)) {
    throw invalidOptions('minPerSecond', 'createHedgeBudget: minPerSecond must be a finite number ≥ 0', minPerSecond);
  }
  if (!isNonNegative(burst) || burst < 1) throw invalidOptions('burst', 'createHedgeBudget: burst must be a finite number ≥ 1', burst);
  if (typeof now !== 'function') throw invalidOptions('now', 'createHedgeBudget: now must be a function', now);

  let tokens = 0;
  let refilledAt = now();
  let calls = 0;
  let acquired = 0;
  let denied = 0;

  const refill = (): void => {
    if (minPerSecond === 0) return;
    const at = now();
    const elapsed = at - refilledAt;
    refilledAt = at;
    if (elapsed > 0) tokens = Math.min(burst, tokens + (elapsed / 1000) * minPerSecond);
  };

  return {
    recordCall() {
      calls++;
      tokens = Math.min(burst, tokens + ratio);
    },
    tryAcquire() {
      refill();
      // The tolerance keeps ten deposits of 0.1 (0.9999999999999999 in floating point) worth one attempt.
      if (tokens >= 1 - 1e-9) {
        tokens = Math.max(0, tokens - 1);
        acquired++;
        return true;
      }
      denied++;
      return false;
    },
    snapshot(): HedgeBudgetSnapshot {
      refill();
      return { available: tokens, calls, acquired, denied };
    },
  };
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

export interface AdaptiveDelayOptions {
  /** Delay when the candidate's latency is not known yet (undefined, NaN or negative). */
  readonly fallbackMs: number;
  /** Factor applied to the known latency. Default 1. */
  readonly multiplier?: number;
  /** Lower bound of the delay. Default 0. */
  readonly minMs?: number;
  /** Upper bound of the delay. Default Infinity. */
  readonly maxMs?: number;
}

/**
 * A `hedge` delay learned from latency: `latencyOf(candidate)` (e.g. the pool's p95 of that
 * endpoint) × `multiplier`, clamped to [`minMs`, `maxMs`]; `fallbackMs` while nothing is known.
 */
export function adaptiveDelay<C>(
  latencyOf: (candidate: C, index: number) => number | undefined,
  options: AdaptiveDelayOptions,
): (candidate: C, index: number) => number {
  if (typeof latencyOf !== 'function') throw invalidOptions('latencyOf', 'adaptiveDelay: latencyOf must be a function', latencyOf);
  const { fallbackMs, multiplier = 1, minMs = 0, maxMs = Number.POSITIVE_INFINITY } = options;
  if (typeof fallbackMs !== 'number' || Number.isNaN(fallbackMs) || fallbackMs < 0) {
    throw invalidOptions('fallbackMs', 'adaptiveDelay: fallbackMs must be a number ≥ 0', fallbackMs);
  }
  if (!isNonNegative(multiplier)) throw invalidOptions('multiplier', 'adaptiveDelay: multiplier must be a finite number ≥ 0', multiplier);
  if (!isNonNegative(minMs)) throw invalidOptions('minMs', 'adaptiveDelay: minMs must be a finite number ≥ 0', minMs);
  if (typeof maxMs !== 'number' || Number.isNaN(maxMs) || maxMs < minMs) {
    throw invalidOptions('maxMs', `adaptiveDelay: maxMs must be a number ≥ minMs (${minMs})`, maxMs);
  }
  return (candidate, index) => {
    const latency = latencyOf(candidate, index);
    if (latency === undefined || Number.isNaN(latency) || latency < 0) return fallbackMs;
    return Math.min(maxMs, Math.max(minMs, latency * multiplier));
  };
}
