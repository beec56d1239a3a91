import { XError, isXError } from './error.js';

export type AbortedError = XError<'ABORTED', { readonly reason?: string }>;

/**
 * The error every `@x` package settles with when a caller's `signal` aborts. The signal's own
 * reason is kept as `cause`; when the reason already is an `@x` error it is returned unchanged, so
 * a deadline that aborts with a timeout error stays a timeout error.
 */
export function abortedError(reason?: unknown): XError {
  if (isXError(reason)) return reason;
  const text = describeReason(reason);
  return new XError({
    code: 'ABORTED',
    category: 'aborted',
    message: text === undefined ? 'The operation was aborted' : `The operation was aborted: ${text}`,
    context: text === undefined ? {} : { reason: text },
    cause: reason,
  });
}

function describeReason(reason: unknown): string | undefined {
  if (reason === undefined) return undefined;
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  try {
    return JSON.stringify(reason) ?? typeof reason;
  } catch {
    return typeof reason;
  }
}

/** Throws {@link abortedError} when `signal` is already aborted; an absent signal never throws. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal.reason);
}

/**
 * True for an `AbortSignal`, including one from another realm or polyfill (checked by shape, not
 * `instanceof`). Packages use it to reject a `signal` option that is not one with a clear error.
 */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}
