import type { AttemptFn, XError } from '@x/errors';
import { allAttemptsFailed } from './errors.js';
import { checkCandidates, checkOptions, rejectCall, resolveCall, runCall, shouldFailover, startAttempt } from './engine.js';
import type { AttemptRecord, Call, CallHooks } from './engine.js';
import type { AttemptFailure, RaceResult, StrategyOptions } from './types.js';

const NO_FAILURES: readonly AttemptFailure<never>[] = Object.freeze([]);

/** The winner of a call: the success of `record`. */
export function winOf<C, T, R, S>(call: Call<C, T, R, S>, record: AttemptRecord<C>, value: T, latencyMs: number): RaceResult<C, T> {
  return {
    value,
    candidate: record.candidate,
    index: record.index,
    attempt: record.attempt,
    latencyMs,
    elapsedMs: performance.now() - call.startedAt,
    started: call.records.length,
    failures: call.failures ?? NO_FAILURES,
  };
}

/**
 * The failure handling race, hedge and dual share: a failure that may not fail over ends the call
 * with that very error; otherwise, once nothing runs and nothing more can start, all failed.
 */
export function onRaceFailure<C, T, R, S>(call: Call<C, T, R, S>, error: XError, canStartMore: boolean): boolean {
  if (!shouldFailover(call, error)) {
    rejectCall(call, error);
    return false;
  }
  if (call.running === 0 && !canStartMore) {
    rejectCall(call, allAttemptsFailed(call.strategy, call.failures ?? []));
    return false;
  }
  return true;
}

const RACE_HOOKS: CallHooks<unknown, unknown, RaceResult<unknown, unknown>, undefined> = {
  success(call, record, value, latencyMs) {
    resolveCall(call, winOf(call, record, value, latencyMs));
  },
  failure(call, _record, error) {
    onRaceFailure(call, error, false);
  },
};

export function startEvery<C, T, R, S>(call: Call<C, T, R, S>): void {
  const count = call.candidates.length;
  for (let index = 0; index < count && !call.settled; index++) startAttempt(call, index);
}

/**
 * Starts every candidate at once; the first *success* wins and the others are aborted. A failure
 * lets the others go on when `shouldFailover(error)` says so, and otherwise ends the call with that
 * error. When all fail: `ALL_ATTEMPTS_FAILED` with every failure in `context.failures`.
 */
export function race<C, T>(candidates: readonly C[], attempt: AttemptFn<C, T>, options?: StrategyOptions<C, T>): Promise<RaceResult<C, T>> {
  const bad = checkCandidates('race', candidates, attempt);
  if (bad !== undefined) return Promise.reject(bad);
  const checked = checkOptions(options);
  if (checked instanceof Error) return Promise.reject(checked);
  return runCall(
    'race',
    candidates,
    attempt,
    checked,
    RACE_HOOKS as unknown as CallHooks<C, T, RaceResult<C, T>, undefined>,
    undefined,
    startEvery,
  );
}
