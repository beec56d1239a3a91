import { hookFailed, invalidOptions, noCandidates } from './errors.js';
import { checkCandidates, checkOptions, resolveCall, runCall, startAttempt } from './engine.js';
import type { Call, CallHooks } from './engine.js';
import { onRaceFailure, startEvery, winOf } from './race.js';
import type { AttemptFn } from '@x/errors';
import type { DualBalancer, DualOptions, DualPair, DualResult } from './types.js';

interface DualState {
  /** Pair number of each flattened candidate. */
  readonly pairOf: readonly number[];
  /** Flattened index of each pair's primary; its secondary (if any) follows it. */
  readonly firstOf: readonly number[];
  readonly balance: boolean;
  readonly balancer: DualBalancer | undefined;
  /** Pair the next balance step starts. */
  current: number;
  /** Pairs started so far (balance). */
  tried: number;
}

type DualCall<C, T> = Call<C, T, DualResult<C, T>, DualState>;

/** Round-robin over pairs, one step per call; the state lives in the object returned. */
export function createDualBalancer(): DualBalancer {
  let cursor = 0;
  return {
    next(pairCount: number): number {
      if (!(pairCount >= 1)) return 0;
      const pair = cursor % pairCount;
      // Stays small whatever the call count, and adapts when the number of pairs changes.
      cursor = pair + 1;
      return pair;
    },
  };
}

function startPair<C, T>(call: DualCall<C, T>, pair: number): void {
  const state = call.state;
  state.tried++;
  state.current = (pair + 1) % state.firstOf.length;
  const first = state.firstOf[pair] as number;
  const end = pair + 1 < state.firstOf.length ? (state.firstOf[pair + 1] as number) : call.candidates.length;
  // Both members of a pair start together, so failing over inside the pair costs no waiting.
  for (let index = first; index < end && !call.settled; index++) startAttempt(call, index);
}

const DUAL_HOOKS: CallHooks<unknown, unknown, DualResult<unknown, unknown>, DualState> = {
  success(call, record, value, latencyMs) {
    const pair = call.state.pairOf[record.index] as number;
    resolveCall(call, {
      ...winOf(call, record, value, latencyMs),
      pair,
      role: record.index === call.state.firstOf[pair] ? 'primary' : 'secondary',
    });
  },
  failure(call, _record, error) {
    const state = call.state;
    const canStartMore = state.balance && state.tried < state.firstOf.length;
    if (onRaceFailure(call, error, canStartMore) && canStartMore && call.running === 0) startPair(call, state.current);
  },
};

function startDual<C, T>(call: DualCall<C, T>): void {
  const state = call.state;
  if (!state.balance) {
    startEvery(call);
    return;
  }
  // Asked only once the call really starts, so a call rejected up front does not skip a pair.
  const pairCount = state.firstOf.length;
  if (state.balancer !== undefined) {
    let picked: unknown;
    try {
      picked = state.balancer.next(pairCount);
    } catch (cause) {
      throw hookFailed('balancer.next', cause);
    }
    const n = typeof picked === 'number' && Number.isFinite(picked) ? Math.floor(picked) : 0;
    state.current = ((n % pairCount) + pairCount) % pairCount;
  }
  startPair(call, state.current);
}

/**
 * Candidates in primary/secondary pairs. Within a pair both start at once and the first success
 * wins. Across pairs, `across: 'race'` starts every pair at once; `'balance'` starts one pair per
 * call (round-robin through `balancer`) and moves to the next pair only when both of it failed.
 * `index` in events and results counts the pairs flattened: primary, then secondary if present.
 */
export function dual<C, T>(
  pairs: ReadonlyArray<DualPair<C>>,
  attempt: AttemptFn<C, T>,
  options?: DualOptions<C, T>,
): Promise<DualResult<C, T>> {
  const bad = checkCandidates('dual', pairs, attempt);
  if (bad !== undefined) return Promise.reject(bad);
  const checked = checkOptions(options);
  if (checked instanceof Error) return Promise.reject(checked);
  const across = options?.across ?? 'race';
  const balancer = options?.balancer;
  if (across !== 'race' && across !== 'balance') {
    return Promise.reject(invalidOptions('across', "dual: across must be 'race' or 'balance'", across));
  }
  if (balancer !== undefined && typeof balancer.next !== 'function') {
    return Promise.reject(
      invalidOptions('balancer', 'dual: balancer must come from createDualBalancer (a next(pairCount) method)', balancer),
    );
  }
  const candidates: C[] = [];
  const pairOf: number[] = [];
  const firstOf: number[] = [];
  for (let pair = 0; pair < pairs.length; pair++) {
    const entry = pairs[pair];
    if (typeof entry !== 'object' || entry === null || !('primary' in entry)) {
      return Promise.reject(invalidOptions(`pairs[${pair}]`, `dual: pair ${pair} must be { primary, secondary? }`, entry));
    }
    firstOf.push(candidates.length);
    candidates.push(entry.primary);
    pairOf.push(pair);
    if (entry.secondary !== undefined) {
      candidates.push(entry.secondary);
      pairOf.push(pair);
    }
  }
  if (candidates.length === 0) return Promise.reject(noCandidates('dual'));
  const state: DualState = { pairOf, firstOf, balance: across === 'balance', balancer, current: 0, tried: 0 };
  return runCall(
    'dual',
    candidates,
    attempt,
    checked,
    DUAL_HOOKS as unknown as CallHooks<C, T, DualResult<C, T>, DualState>,
    state,
    startDual,
  );
}
