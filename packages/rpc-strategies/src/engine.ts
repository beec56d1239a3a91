import { MAX_TIMER_MS, abortedError, checkTimerMs, isAbortSignal, isXError } from '@x/errors';
import type { AttemptFn, Outcome, XError } from '@x/errors';
import {
  attemptAborted,
  attemptError,
  attemptTimeout,
  deadlineExceeded,
  defaultShouldFailover,
  hookFailed,
  invalidOptions,
  noCandidates,
} from './errors.js';
import type { AttemptFailure, AttemptEvent, StrategyOptions } from './types.js';

// The machinery every strategy shares: starting attempts with their own AbortController, per-attempt
// timeouts, the overall deadline, the caller's signal, onAttempt reporting, and cleanup on settle.
// Strategies plug in through a constant `CallHooks` object and keep per-call data in `call.state`,
// so the hot path allocates no closures beyond the two promise reactions of each attempt.

type Timer = ReturnType<typeof setTimeout>;

export interface AttemptRecord<C> {
  readonly index: number;
  readonly attempt: number;
  readonly candidate: C;
  readonly controller: AbortController;
  readonly startedAt: number;
  timer: Timer | undefined;
  done: boolean;
}

export interface CallHooks<C, T, R, S> {
  /**
   * Vets a value before it counts as a success (consensus normalises here). Returning an error turns
   * the attempt into a failure.
   */
  readonly accept?: (call: Call<C, T, R, S>, record: AttemptRecord<C>, value: T) => XError | undefined;
  readonly success: (call: Call<C, T, R, S>, record: AttemptRecord<C>, value: T, latencyMs: number) => void;
  readonly failure: (call: Call<C, T, R, S>, record: AttemptRecord<C>, error: XError, latencyMs: number) => void;
  /** Replaces the default deadline handling (reject with DEADLINE_EXCEEDED). */
  readonly deadline?: (call: Call<C, T, R, S>) => void;
  /** An attempt the strategy cut short when it settled the call with immediate cleanup. */
  readonly cut?: (call: Call<C, T, R, S>, record: AttemptRecord<C>, error: XError, latencyMs: number) => void;
  /** Releases the strategy's own timers when the call settles. */
  readonly release?: (call: Call<C, T, R, S>) => void;
}

export interface Call<C, T, R, S> {
  readonly strategy: string;
  readonly candidates: readonly C[];
  readonly fn: AttemptFn<C, T>;
  readonly hooks: CallHooks<C, T, R, S>;
  readonly onAttempt: ((event: AttemptEvent<C, T>) => void) | undefined;
  readonly failover: (error: XError) => boolean;
  readonly attemptTimeoutMs: number;
  readonly deadlineMs: number;
  readonly signal: AbortSignal | undefined;
  readonly startedAt: number;
  readonly records: AttemptRecord<C>[];
  readonly state: S;
  resolve: (value: R) => void;
  reject: (error: XError) => void;
  running: number;
  failures: AttemptFailure<C>[] | undefined;
  settled: boolean;
  deadlineTimer: Timer | undefined;
}

type AnyCall = Call<unknown, unknown, unknown, unknown>;

/** Checked options in the shape the engine uses: 0 means "no timer". */
interface CheckedOptions<C, T> {
  readonly signal: AbortSignal | undefined;
  readonly attemptTimeoutMs: number;
  readonly deadlineMs: number;
  readonly onAttempt: ((event: AttemptEvent<C, T>) => void) | undefined;
  readonly shouldFailover: (error: XError) => boolean;
}

const EMPTY_OPTIONS: StrategyOptions<never, never> = Object.freeze({});

/** Validates the options common to every strategy; returns an error for bad input. */
export function checkOptions<C, T>(options: StrategyOptions<C, T> | undefined): CheckedOptions<C, T> | XError {
  const o = options ?? (EMPTY_OPTIONS as StrategyOptions<C, T>);
  if (typeof o !== 'object' || o === null) return invalidOptions('options', 'options must be an object', o);
  const { signal, onAttempt, shouldFailover } = o;
  if (signal !== undefined && !isAbortSignal(signal)) {
    return invalidOptions('signal', 'signal must be an AbortSignal', signal);
  }
  if (onAttempt !== undefined && typeof onAttempt !== 'function')
    return invalidOptions('onAttempt', 'onAttempt must be a function', onAttempt);
  if (shouldFailover !== undefined && typeof shouldFailover !== 'function') {
    return invalidOptions('shouldFailover', 'shouldFailover must be a function', shouldFailover);
  }
  try {
    const attemptTimeoutMs = timerMs('attemptTimeoutMs', o.attemptTimeoutMs);
    const deadlineMs = timerMs('deadlineMs', o.deadlineMs);
    return { signal, attemptTimeoutMs, deadlineMs, onAttempt, shouldFailover: shouldFailover ?? defaultShouldFailover };
  } catch (error) {
    return error as XError;
  }
}

/**
 * A duration as a timer length: 0 for "none" (absent, or Infinity and anything beyond setTimeout's
 * range, which would otherwise fire at once); otherwise checked by `checkTimerMs` (throws).
 */
function timerMs(option: string, value: number | undefined): number {
  if (value === undefined || (typeof value === 'number' && value > MAX_TIMER_MS)) return 0;
  return checkTimerMs('STRATEGY_INVALID_OPTIONS', option, value);
}

export function checkCandidates(strategy: string, candidates: unknown, fn: unknown, allowEmpty = false): XError | undefined {
  if (!Array.isArray(candidates)) return invalidOptions('candidates', `${strategy}: candidates must be an array`, candidates);
  if (typeof fn !== 'function') return invalidOptions('attempt', `${strategy}: the attempt function must be a function`, fn);
  if (candidates.length === 0 && !allowEmpty) return noCandidates(strategy);
  return undefined;
}

/**
 * Runs one call. `start` begins the first attempts; everything after is driven by the hooks.
 * Rejects at once (nothing started) for bad options or an already-aborted signal.
 */
export function runCall<C, T, R, S>(
  strategy: string,
  candidates: readonly C[],
  fn: AttemptFn<C, T>,
  options: CheckedOptions<C, T>,
  hooks: CallHooks<C, T, R, S>,
  state: S,
  start: (call: Call<C, T, R, S>) => void,
): Promise<R> {
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
  return new Promise<R>((resolve, reject) => {
    const call: Call<C, T, R, S> = {
      strategy,
      candidates,
      fn,
      hooks,
      onAttempt: options.onAttempt,
      failover: options.shouldFailover,
      attemptTimeoutMs: options.attemptTimeoutMs,
      deadlineMs: options.deadlineMs,
      signal,
      startedAt: performance.now(),
      records: [],
      state,
      resolve,
      reject,
      running: 0,
      failures: undefined,
      settled: false,
      deadlineTimer: undefined,
    };
    if (call.deadlineMs > 0) call.deadlineTimer = setTimeout(onDeadline, call.deadlineMs, call);
    if (signal !== undefined) watchSignal(signal, call as unknown as AnyCall);
    try {
      start(call);
    } catch (error) {
      crashCall(call, error);
    }
  });
}

/** Starts one attempt on `candidates[index]`. */
export function startAttempt<C, T, R, S>(call: Call<C, T, R, S>, index: number): AttemptRecord<C> {
  const candidate = call.candidates[index] as C;
  const controller = new AbortController();
  const record: AttemptRecord<C> = {
    index,
    attempt: call.records.length,
    candidate,
    controller,
    startedAt: performance.now(),
    timer: undefined,
    done: false,
  };
  call.records.push(record);
  call.running++;
  if (call.attemptTimeoutMs > 0) record.timer = setTimeout(onAttemptTimeout, call.attemptTimeoutMs, call, record);
  let promise: Promise<T>;
  try {
    promise = Promise.resolve(call.fn(candidate, { signal: controller.signal, attempt: record.attempt }));
  } catch (error) {
    // A synchronous throw is that attempt's failure, reported asynchronously like any other.
    promise = Promise.reject(isXError(error) ? error : attemptError(error, index));
  }
  promise.then(
    (value) => attemptFulfilled(call, record, value),
    (reason: unknown) => attemptRejected(call, record, reason),
  );
  return record;
}

function attemptFulfilled<C, T, R, S>(call: Call<C, T, R, S>, record: AttemptRecord<C>, value: T): void {
  // Already timed out or aborted as a loser: that was its one report.
  if (record.done) return;
  finishRecord(call, record);
  const latencyMs = performance.now() - record.startedAt;
  if (call.settled) {
    // Finished in the same turn as the decision, before the losers were cut: a real outcome, not a loss.
    report(call, record, { ok: true, value, latencyMs }, false);
    return;
  }
  try {
    const rejected = call.hooks.accept?.(call, record, value);
    if (rejected !== undefined) {
      failRecord(call, record, rejected, latencyMs);
      return;
    }
    report(call, record, { ok: true, value, latencyMs }, false);
    call.hooks.success(call, record, value, latencyMs);
  } catch (error) {
    crashCall(call, error);
  }
}

function attemptRejected<C, T, R, S>(call: Call<C, T, R, S>, record: AttemptRecord<C>, reason: unknown): void {
  if (record.done) return;
  finishRecord(call, record);
  const latencyMs = performance.now() - record.startedAt;
  const error = isXError(reason) ? reason : attemptError(reason, record.index);
  if (call.settled) {
    report(call, record, { ok: false, error, latencyMs }, false);
    return;
  }
  try {
    failRecord(call, record, error, latencyMs);
  } catch (error) {
    crashCall(call, error);
  }
}

function onAttemptTimeout<C, T, R, S>(call: Call<C, T, R, S>, record: AttemptRecord<C>): void {
  record.timer = undefined;
  if (record.done || call.settled) return;
  finishRecord(call, record);
  const latencyMs = performance.now() - record.startedAt;
  const error = attemptTimeout(call.attemptTimeoutMs, record.index);
  try {
    record.controller.abort(error);
    failRecord(call, record, error, latencyMs);
  } catch (error) {
    crashCall(call, error);
  }
}

function finishRecord<C, T, R, S>(call: Call<C, T, R, S>, record: AttemptRecord<C>): void {
  record.done = true;
  call.running--;
  if (record.timer !== undefined) {
    clearTimeout(record.timer);
    record.timer = undefined;
  }
}

function failRecord<C, T, R, S>(call: Call<C, T, R, S>, record: AttemptRecord<C>, error: XError, latencyMs: number): void {
  const failure: AttemptFailure<C> = { candidate: record.candidate, index: record.index, attempt: record.attempt, error, latencyMs };
  if (call.failures === undefined) call.failures = [failure];
  else call.failures.push(failure);
  report(call, record, { ok: false, error, latencyMs }, false);
  call.hooks.failure(call, record, error, latencyMs);
}

function report<C, T, R, S>(call: Call<C, T, R, S>, record: AttemptRecord<C>, outcome: Outcome<T>, abortedAsLoser: boolean): void {
  const onAttempt = call.onAttempt;
  if (onAttempt === undefined) return;
  try {
    onAttempt({ candidate: record.candidate, index: record.index, attempt: record.attempt, outcome, abortedAsLoser });
  } catch {
    // An observer must not change the call's result, and there is no caller left to hand the error to.
  }
}

/** True when `error` lets other candidates win; a throwing predicate ends the call with HOOK_FAILED. */
export function shouldFailover<C, T, R, S>(call: Call<C, T, R, S>, error: XError): boolean {
  try {
    return Boolean(call.failover(error));
  } catch (cause) {
    throw hookFailed('shouldFailover', cause);
  }
}

/**
 * Any exception thrown inside the strategy machinery ends the call with an XError (user hooks are
 * wrapped as HOOK_FAILED where they are called), never with an unhandled rejection.
 */
export function crashCall<C, T, R, S>(call: Call<C, T, R, S>, error: unknown): void {
  if (call.settled) return;
  rejectCall(call, isXError(error) ? error : hookFailed(`${call.strategy} hook`, error));
}

/** Settles with a value; attempts still running a microtask later are aborted as losers. */
export function resolveCall<C, T, R, S>(call: Call<C, T, R, S>, value: R): void {
  if (!close(call, undefined, false)) return;
  call.resolve(value);
}

/** Settles with an error; attempts still running a microtask later are aborted as losers. */
export function rejectCall<C, T, R, S>(call: Call<C, T, R, S>, error: XError): void {
  if (!close(call, undefined, false)) return;
  call.reject(error);
}

/**
 * Settles, aborting every running attempt right now with `reason` (reported with `abortedAsLoser`,
 * passed to the `cut` hook first so results can list them). For deadline, external abort and scatter.
 */
export function settleNow<C, T, R, S>(
  call: Call<C, T, R, S>,
  reason: XError,
  result: { ok: true; value: R } | { ok: false; error: XError },
): void {
  if (!close(call, reason, true)) return;
  if (result.ok) call.resolve(result.value);
  else call.reject(result.error);
}

function close<C, T, R, S>(call: Call<C, T, R, S>, reason: XError | undefined, immediate: boolean): boolean {
  if (call.settled) return false;
  call.settled = true;
  if (call.deadlineTimer !== undefined) {
    clearTimeout(call.deadlineTimer);
    call.deadlineTimer = undefined;
  }
  if (call.signal !== undefined) unwatchSignal(call.signal, call as unknown as AnyCall);
  try {
    call.hooks.release?.(call);
  } catch {
    // release only clears the strategy's own timers; nothing else can fail there.
  }
  if (call.running > 0) {
    // Deferring by one microtask lets attempts that already finished in this turn be reported as
    // real outcomes instead of being aborted, and still cuts the rest before the caller resumes.
    if (immediate) cutRunning(call, reason);
    else queueMicrotask(() => cutRunning(call, undefined));
  }
  return true;
}

function cutRunning<C, T, R, S>(call: Call<C, T, R, S>, reason: XError | undefined): void {
  if (call.running === 0) return;
  let error = reason;
  for (const record of call.records) {
    if (record.done) continue;
    finishRecord(call, record);
    error ??= attemptAborted(`the ${call.strategy} call was already decided`);
    const latencyMs = performance.now() - record.startedAt;
    try {
      record.controller.abort(error);
      call.hooks.cut?.(call, record, error, latencyMs);
    } catch {
      // Abort listeners belong to the attempt; their failure must not stop the other attempts being cut.
    }
    report(call, record, { ok: false, error, latencyMs }, true);
  }
}

function onDeadline<C, T, R, S>(call: Call<C, T, R, S>): void {
  call.deadlineTimer = undefined;
  if (call.settled) return;
  try {
    if (call.hooks.deadline !== undefined) {
      call.hooks.deadline(call);
      return;
    }
  } catch (error) {
    crashCall(call, error);
    return;
  }
  const error = deadlineExceeded(call.strategy, call.deadlineMs, call.failures ?? [], pendingIndexes(call));
  settleNow(call, error, { ok: false, error });
}

/** Indexes of attempts still running, in start order. */
export function pendingIndexes<C, T, R, S>(call: Call<C, T, R, S>): number[] {
  const pending: number[] = [];
  for (const record of call.records) if (!record.done) pending.push(record.index);
  return pending;
}

// One 'abort' listener per caller signal, shared by every call running under it, so that thousands
// of concurrent calls on one long-lived signal neither pile up listeners (MaxListenersExceededWarning)
// nor leave any behind: the listener is removed when the last call under that signal settles.
interface SignalWatch {
  readonly calls: Set<AnyCall>;
  readonly listener: () => void;
}

const watches = new WeakMap<AbortSignal, SignalWatch>();

function watchSignal(signal: AbortSignal, call: AnyCall): void {
  const existing = watches.get(signal);
  if (existing !== undefined) {
    existing.calls.add(call);
    return;
  }
  const calls = new Set<AnyCall>([call]);
  const listener = (): void => {
    watches.delete(signal);
    signal.removeEventListener('abort', listener);
    const error = abortedError(signal.reason);
    for (const each of [...calls]) settleNow(each, error, { ok: false, error });
  };
  watches.set(signal, { calls, listener });
  signal.addEventListener('abort', listener);
}

function unwatchSignal(signal: AbortSignal, call: AnyCall): void {
  const watch = watches.get(signal);
  if (watch === undefined) return;
  watch.calls.delete(call);
  if (watch.calls.size === 0) {
    watches.delete(signal);
    signal.removeEventListener('abort', watch.listener);
  }
}
