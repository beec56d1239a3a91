import type { AttemptFn } from '@x/errors';
import { attemptAborted, deadlineExceeded, hookFailed, invalidOptions } from './errors.js';
import { checkCandidates, checkOptions, pendingIndexes, resolveCall, runCall, settleNow, startAttempt } from './engine.js';
import type { Call, CallHooks } from './engine.js';
import type { ScatterOptions, ScatterOutcome, ScatterProgress } from './types.js';

interface ScatterState<T> {
  readonly outcomes: (ScatterOutcome<T> | undefined)[];
  readonly stopWhen: ScatterOptions<unknown, T>['stopWhen'];
  succeeded: number;
  failed: number;
}

type ScatterCall<C, T> = Call<C, T, ScatterOutcome<T>[], ScatterState<T>>;

function afterOutcome<C, T>(call: ScatterCall<C, T>): void {
  const state = call.state;
  const done = state.succeeded + state.failed;
  const total = call.candidates.length;
  if (done === total) {
    resolveCall(call, state.outcomes as ScatterOutcome<T>[]);
    return;
  }
  const stopWhen = state.stopWhen;
  if (stopWhen === undefined) return;
  const progress: ScatterProgress = { settled: done, succeeded: state.succeeded, failed: state.failed, pending: total - done };
  let stop: unknown;
  try {
    stop = stopWhen(state.outcomes, progress);
  } catch (cause) {
    throw hookFailed('stopWhen', cause);
  }
  if (stop) {
    settleNow(call, attemptAborted('scatter was stopped early by stopWhen'), { ok: true, value: state.outcomes as ScatterOutcome<T>[] });
  }
}

const SCATTER_HOOKS: CallHooks<unknown, unknown, ScatterOutcome<unknown>[], ScatterState<unknown>> = {
  success(call, record, value, latencyMs) {
    call.state.outcomes[record.index] = { ok: true, value, latencyMs, aborted: false };
    call.state.succeeded++;
    afterOutcome(call);
  },
  failure(call, record, error, latencyMs) {
    call.state.outcomes[record.index] = { ok: false, error, latencyMs, aborted: false };
    call.state.failed++;
    afterOutcome(call);
  },
  cut(call, record, error, latencyMs) {
    call.state.outcomes[record.index] = { ok: false, error, latencyMs, aborted: true };
  },
  deadline(call) {
    // Scatter keeps what it has: the answers so far, and the unanswered marked as cut by the deadline.
    const reason = deadlineExceeded('scatter', call.deadlineMs, call.failures ?? [], pendingIndexes(call));
    settleNow(call, reason, { ok: true, value: call.state.outcomes as ScatterOutcome<unknown>[] });
  },
};

function startScatter<C, T>(call: ScatterCall<C, T>): void {
  const count = call.candidates.length;
  if (count === 0) {
    resolveCall(call, []);
    return;
  }
  for (let index = 0; index < count && !call.settled; index++) startAttempt(call, index);
}

/**
 * A different request per candidate (the attempt function gets each candidate, which can carry its
 * own payload), all at once. Resolves with one outcome per candidate in input order. `stopWhen`
 * can end the call early; the attempts it cuts — and those the deadline cuts — are reported as
 * `{ ok: false, aborted: true }`, not as endpoint failures. `shouldFailover` does not apply: every
 * failure is just that candidate's outcome. Only the caller's abort rejects.
 */
export function scatter<C, T>(
  candidates: readonly C[],
  attempt: AttemptFn<C, T>,
  options?: ScatterOptions<C, T>,
): Promise<ScatterOutcome<T>[]> {
  const bad = checkCandidates('scatter', candidates, attempt, true);
  if (bad !== undefined) return Promise.reject(bad);
  const checked = checkOptions(options);
  if (checked instanceof Error) return Promise.reject(checked);
  const stopWhen = options?.stopWhen;
  if (stopWhen !== undefined && typeof stopWhen !== 'function') {
    return Promise.reject(invalidOptions('stopWhen', 'scatter: stopWhen must be a function', stopWhen));
  }
  const state: ScatterState<T> = {
    outcomes: new Array<ScatterOutcome<T> | undefined>(candidates.length).fill(undefined),
    stopWhen: stopWhen,
    succeeded: 0,
    failed: 0,
  };
  return runCall(
    'scatter',
    candidates,
    attempt,
    checked,
    SCATTER_HOOKS as unknown as CallHooks<C, T, ScatterOutcome<T>[], ScatterState<T>>,
    state,
    startScatter,
  );
}
