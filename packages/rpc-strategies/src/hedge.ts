import { MAX_TIMER_MS } from '@x/errors';
import type { AttemptFn } from '@x/errors';
import { hookFailed, invalidOptions } from './errors.js';
import { checkCandidates, checkOptions, crashCall, resolveCall, runCall, startAttempt } from './engine.js';
import type { Call, CallHooks } from './engine.js';
import { onRaceFailure, winOf } from './race.js';
import type { HedgeBudget, HedgeDelay, HedgeOptions, HedgeResult } from './types.js';

interface HedgeState<C> {
  readonly delay: HedgeDelay<C>;
  /** Attempts this call may start: min(maxAttempts, candidates). */
  readonly limit: number;
  readonly budget: HedgeBudget | undefined;
  next: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  hedges: number;
  budgetDenied: boolean;
}

type HedgeCall<C, T> = Call<C, T, HedgeResult<C, T>, HedgeState<C>>;

function startNext<C, T>(call: HedgeCall<C, T>): void {
  const state = call.state;
  if (state.timer !== undefined) {
    clearTimeout(state.timer);
    state.timer = undefined;
  }
  const index = state.next++;
  startAttempt(call, index);
  if (state.next >= state.limit || call.settled) return;
  const ms = delayAfter(state.delay, call.candidates[index] as C, index);
  // NaN or Infinity: no hedge after this candidate; only a failure moves on.
  if (!(ms <= MAX_TIMER_MS)) return;
  state.timer = setTimeout(onHedgeTimer, Math.max(0, ms), call);
}

function delayAfter<C>(delay: HedgeDelay<C>, candidate: C, index: number): number {
  if (typeof delay === 'number') return delay;
  let ms: unknown;
  try {
    ms = delay(candidate, index);
  } catch (cause) {
    throw hookFailed('hedgeDelayMs', cause);
  }
  return typeof ms === 'number' ? ms : Number.NaN;
}

function onHedgeTimer<C, T>(call: HedgeCall<C, T>): void {
  const state = call.state;
  state.timer = undefined;
  if (call.settled) return;
  try {
    if (state.budget !== undefined && !state.budget.tryAcquire()) {
      state.budgetDenied = true;
      return;
    }
    state.hedges++;
    startNext(call);
  } catch (error) {
    crashCall(call, error);
  }
}

const HEDGE_HOOKS: CallHooks<unknown, unknown, HedgeResult<unknown, unknown>, HedgeState<unknown>> = {
  success(call, record, value, latencyMs) {
    resolveCall(call, { ...winOf(call, record, value, latencyMs), hedges: call.state.hedges, budgetDenied: call.state.budgetDenied });
  },
  failure(call, _record, error) {
    const canStartMore = call.state.next < call.state.limit;
    // A real failure moves on at once and is never limited by the budget.
    if (onRaceFailure(call, error, canStartMore) && canStartMore) startNext(call);
  },
  release(call) {
    if (call.state.timer !== undefined) clearTimeout(call.state.timer);
    call.state.timer = undefined;
  },
};

function startHedge<C, T>(call: HedgeCall<C, T>): void {
  call.state.budget?.recordCall();
  startNext(call);
}

/**
 * Starts the first (best) candidate, then the next one each time `hedgeDelayMs` passes without a success
 * (subject to `budget`) or at once when an attempt fails; the first success wins and the rest are
 * aborted. At most `maxAttempts` attempts per call.
 */
export function hedge<C, T>(candidates: readonly C[], attempt: AttemptFn<C, T>, options?: HedgeOptions<C, T>): Promise<HedgeResult<C, T>> {
  const bad = checkCandidates('hedge', candidates, attempt);
  if (bad !== undefined) return Promise.reject(bad);
  const checked = checkOptions(options);
  if (checked instanceof Error) return Promise.reject(checked);
  const { hedgeDelayMs, maxAttempts = candidates.length, budget } = options ?? ({} as Partial<HedgeOptions<C, T>>);
  if (typeof hedgeDelayMs === 'number' ? Number.isNaN(hedgeDelayMs) || hedgeDelayMs < 0 : typeof hedgeDelayMs !== 'function') {
    return Promise.reject(invalidOptions('hedgeDelayMs', 'hedge: hedgeDelayMs must be a number ≥ 0 or a function', hedgeDelayMs));
  }
  if (typeof maxAttempts !== 'number' || !(maxAttempts >= 1) || (Number.isFinite(maxAttempts) && !Number.isInteger(maxAttempts))) {
    return Promise.reject(invalidOptions('maxAttempts', 'hedge: maxAttempts must be an integer ≥ 1', maxAttempts));
  }
  if (budget !== undefined && (typeof budget.tryAcquire !== 'function' || typeof budget.recordCall !== 'function')) {
    return Promise.reject(invalidOptions('budget', 'hedge: budget must come from createHedgeBudget (recordCall and tryAcquire)', budget));
  }
  const state: HedgeState<C> = {
    delay: hedgeDelayMs as HedgeDelay<C>,
    limit: Math.min(maxAttempts, candidates.length),
    budget,
    next: 0,
    timer: undefined,
    hedges: 0,
    budgetDenied: false,
  };
  return runCall(
    'hedge',
    candidates,
    attempt,
    checked,
    HEDGE_HOOKS as unknown as CallHooks<C, T, HedgeResult<C, T>, HedgeState<C>>,
    state,
    startHedge,
  );
}
