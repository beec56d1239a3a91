import { XError, configError, toXError } from '@x/errors';
import type { ConfigErrorContext, ErrorCategory } from '@x/errors';
import type { AttemptFailure } from './types.js';

/** Every error code this package produces. */
export const STRATEGY_ERROR_CODES = [
  'STRATEGY_NO_CANDIDATES',
  'STRATEGY_INVALID_OPTIONS',
  'STRATEGY_HOOK_FAILED',
  'STRATEGY_ATTEMPT_FAILED',
  'STRATEGY_ATTEMPT_TIMEOUT',
  'STRATEGY_ATTEMPT_ABORTED',
  'STRATEGY_DEADLINE_EXCEEDED',
  'STRATEGY_ALL_ATTEMPTS_FAILED',
  'STRATEGY_QUORUM_UNREACHABLE',
  'STRATEGY_NORMALIZE_FAILED',
] as const;

export type StrategyErrorCode = (typeof STRATEGY_ERROR_CODES)[number];

/** How a failure appears in an error's `context.failures`: index order, the error kept whole. */
export interface FailureEntry {
  readonly index: number;
  readonly attempt: number;
  readonly latencyMs: number;
  readonly error: XError;
}

/** One group of agreeing answers, as listed in consensus errors' `context.groups`. */
export interface GroupSummary {
  /** The normalised key (cut at 200 characters). */
  readonly key: string;
  /** Count or summed weights of the group's votes. */
  readonly weight: number;
  /** Candidate indexes of the group's votes, in arrival order. */
  readonly indexes: readonly number[];
}

declare module '@x/errors' {
  interface ErrorContexts {
    STRATEGY_INVALID_OPTIONS: ConfigErrorContext;
    STRATEGY_NO_CANDIDATES: { readonly strategy: string };
    STRATEGY_HOOK_FAILED: { readonly hook: string };
    /** An attempt rejected with something that is not an `@x` error (kept as `cause`). */
    STRATEGY_ATTEMPT_FAILED: { readonly index: number };
    STRATEGY_ATTEMPT_TIMEOUT: { readonly index: number; readonly attemptTimeoutMs: number };
    STRATEGY_ATTEMPT_ABORTED: { readonly reason: string };
    STRATEGY_DEADLINE_EXCEEDED: {
      readonly strategy: string;
      readonly deadlineMs: number;
      readonly failures: readonly FailureEntry[];
      /** Candidate indexes still running when the deadline fired. */
      readonly pending: readonly number[];
      /** consensus only. */
      readonly quorum?: number;
      /** consensus only. */
      readonly groups?: readonly GroupSummary[];
    };
    STRATEGY_ALL_ATTEMPTS_FAILED: { readonly strategy: string; readonly failures: readonly FailureEntry[] };
    STRATEGY_QUORUM_UNREACHABLE: {
      readonly quorum: number;
      readonly groups: readonly GroupSummary[];
      readonly failures: readonly FailureEntry[];
      readonly pending: readonly number[];
    };
    STRATEGY_NORMALIZE_FAILED: { readonly index: number };
  }
}

const FAILOVER_CATEGORIES: readonly ErrorCategory[] = ['network', 'timeout', 'rate-limit', 'server'];

/** The default `shouldFailover`: network, timeout, rate-limit and server errors let other candidates win. */
export function defaultShouldFailover(error: XError): boolean {
  return FAILOVER_CATEGORIES.includes(error.category);
}

/** A `STRATEGY_INVALID_OPTIONS` configuration error naming `option` (with the value received when given). */
export function invalidOptions(option: string, message: string, ...value: [unknown?]): XError {
  const error =
    value.length === 0
      ? configError('STRATEGY_INVALID_OPTIONS', option, message)
      : configError('STRATEGY_INVALID_OPTIONS', option, message, value[0]);
  // ConfigErrorContext is an interface (no index signature), so it needs widening to the plain XError every strategy returns.
  return error as unknown as XError;
}

export function noCandidates(strategy: string): XError {
  return new XError({
    code: 'STRATEGY_NO_CANDIDATES',
    category: 'config',
    message: `${strategy}: no candidates to try`,
    context: { strategy },
  });
}

export function hookFailed(hook: string, cause: unknown): XError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new XError({ code: 'STRATEGY_HOOK_FAILED', category: 'config', message: `${hook} threw: ${detail}`, context: { hook }, cause });
}

/** Attempt rejections that are not `@x` errors become `STRATEGY_ATTEMPT_FAILED` (category `server`). */
export function attemptError(reason: unknown, index: number): XError {
  return toXError(reason, { code: 'STRATEGY_ATTEMPT_FAILED', category: 'server', context: { index } });
}

export function attemptTimeout(attemptTimeoutMs: number, index: number): XError {
  return new XError({
    code: 'STRATEGY_ATTEMPT_TIMEOUT',
    category: 'timeout',
    message: `Attempt on candidate ${index} timed out after ${attemptTimeoutMs} ms`,
    context: { index, attemptTimeoutMs },
  });
}

export function attemptAborted(reason: string): XError {
  return new XError({
    code: 'STRATEGY_ATTEMPT_ABORTED',
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
    code: 'STRATEGY_ALL_ATTEMPTS_FAILED',
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
  extra: { readonly quorum?: number; readonly groups?: readonly GroupSummary[] } = {},
): XError {
  const list = failureList(failures);
  return new XError({
    code: 'STRATEGY_DEADLINE_EXCEEDED',
    category: 'timeout',
    message: `${strategy}: no result within the ${deadlineMs} ms deadline (${list.length} failed, ${pending.length} pending)`,
    context: { strategy, deadlineMs, failures: list, pending: Object.freeze([...pending]), ...extra },
    cause:
      list.length === 0
        ? undefined
        : new AggregateError(
            list.map((f) => f.error),
            `${strategy}: failures before the deadline`,
          ),
  });
}

function summarize(list: readonly FailureEntry[]): string {
  const shown = list.slice(0, 5).map((f) => `#${f.index} ${f.error.code}`);
  return list.length > 5 ? `${shown.join(', ')}, …` : shown.join(', ');
}
