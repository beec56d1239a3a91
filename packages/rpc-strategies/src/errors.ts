import { XError, toXError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';
import type { AttemptFailure } from './types.js';

/** Every error code this package produces. */
export const STRATEGY_ERROR_CODES = [
  'NO_CANDIDATES',
  'INVALID_OPTIONS',
  'HOOK_FAILED',
  'ATTEMPT_FAILED',
  'ATTEMPT_TIMEOUT',
  'ATTEMPT_ABORTED',
  'DEADLINE_EXCEEDED',
  'ALL_ATTEMPTS_FAILED',
  'QUORUM_UNREACHABLE',
  'NORMALIZE_FAILED',
] as const;

export type StrategyErrorCode = (typeof STRATEGY_ERROR_CODES)[number];

const FAILOVER_CATEGORIES: readonly ErrorCategory[] = ['network', 'timeout', 'rate-limit', 'server'];

/** The default `shouldFailover`: network, timeout, rate-limit and server errors let other candidates win. */
export function defaultShouldFailover(error: XError): boolean {
  return FAILOVER_CATEGORIES.includes(error.category);
}

export function invalidOptions(message: string, context: Record<string, unknown> = {}): XError {
  return new XError({ code: 'INVALID_OPTIONS', category: 'config', message, context });
}

export function noCandidates(strategy: string): XError {
  return new XError({
    code: 'NO_CANDIDATES',
    category: 'config',
    message: `${strategy}: no candidates to try`,
    context: { strategy },
  });
}

export function hookFailed(hook: string, cause: unknown): XError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new XError({ code: 'HOOK_FAILED', category: 'config', message: `${hook} threw: ${detail}`, context: { hook }, cause });
}

/** Attempt rejections that are not `@x` errors become `ATTEMPT_FAILED` (category `server`). */
export function attemptError(reason: unknown, index: number): XError {
  return toXError(reason, { code: 'ATTEMPT_FAILED', category: 'server', context: { index } });
}

export function attemptTimeout(timeoutMs: number, index: number): XError {
  return new XError({
    code: 'ATTEMPT_TIMEOUT',
    category: 'timeout',
    message: `Attempt on candidate ${index} timed out after ${timeoutMs} ms`,
    context: { index, timeoutMs },
  });
}

export function attemptAborted(reason: string): XError {
  return new XError({
    code: 'ATTEMPT_ABORTED',
    category: 'aborted',
    message: `Attempt aborted: ${reason}`,
    context: { reason },
  });
}

/** Plain, frozen list entries for error contexts: index order, the error kept whole. */
export function failureList<C>(failures: readonly AttemptFailure<C>[]): readonly FailureEntry[] {
  return Object.freeze(
    [...failures]
      .sort((a, b) => a.index - b.index || a.attempt - b.attempt)
      .map((f) => Object.freeze({ index: f.index, attempt: f.attempt, latencyMs: f.latencyMs, error: f.error })),
  );
}

/** How a failure appears in an error's `context.failures`. */
export interface FailureEntry {
  readonly index: number;
  readonly attempt: number;
  readonly latencyMs: number;
  readonly error: XError;
}

/**
 * The category of an error that stands for several failures: their common category when they all
 * share one, otherwise `network` (the candidates could not be reached, each in its own way).
 */
export function aggregateCategory(errors: readonly XError[]): ErrorCategory {
  const first = errors[0]?.category;
  if (first === undefined) return 'network';
  return errors.every((e) => e.category === first) ? first : 'network';
}

export function allAttemptsFailed<C>(strategy: string, failures: readonly AttemptFailure<C>[]): XError {
  const list = failureList(failures);
  const errors = list.map((f) => f.error);
  return new XError({
    code: 'ALL_ATTEMPTS_FAILED',
    category: aggregateCategory(errors),
    message: `${strategy}: all ${list.length} attempts failed (${summarize(list)})`,
    context: { strategy, failures: list },
    cause: new AggregateError(errors, `${strategy}: all attempts failed`),
  });
}

export function deadlineExceeded<C>(
  strategy: string,
  deadlineMs: number,
  failures: readonly AttemptFailure<C>[],
  pending: readonly number[],
  extra: Record<string, unknown> = {},
): XError {
  const list = failureList(failures);
  return new XError({
    code: 'DEADLINE_EXCEEDED',
    category: 'timeout',
    message: `${strategy}: no result within the ${deadlineMs} ms deadline (${list.length} failed, ${pending.length} pending)`,
    context: { strategy, deadlineMs, failures: list, pending: Object.freeze([...pending]), ...extra },
    cause: list.length === 0 ? undefined : new AggregateError(list.map((f) => f.error), `${strategy}: failures before the deadline`),
  });
}

function summarize(list: readonly FailureEntry[]): string {
  const shown = list.slice(0, 5).map((f) => `#${f.index} ${f.error.code}`);
  return list.length > 5 ? `${shown.join(', ')}, …` : shown.join(', ');
}
