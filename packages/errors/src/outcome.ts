import type { XError } from './error.js';

/**
 * The call contract every `@x` layer speaks, from a transport's single exchange up to an app.
 *
 * An *attempt* is one try against one candidate (a UDP server, an HTTP endpoint). It either returns
 * a value or throws an {@link XError}; the layer that runs it records what happened as an
 * {@link Outcome}. Fan-out layers (strategies, pools, product clients) take attempt functions and
 * return outcomes, so a transport, a strategy and a product compose without knowing each other.
 */

/** What an attempt receives besides its candidate. */
export interface AttemptContext {
  /** Aborted when this attempt is no longer wanted: it lost, timed out, hit the deadline or the caller aborted. */
  readonly signal: AbortSignal;
  /** 0-based order in which attempts were started within one call. */
  readonly attempt: number;
}

/** One try against one candidate. Works for HTTP, UDP or anything else that returns a promise. */
export type AttemptFn<C, T> = (candidate: C, context: AttemptContext) => Promise<T>;

/** An attempt that produced a value. `latencyMs` is a `performance.now()` difference in float ms. */
export interface Success<T> {
  readonly ok: true;
  readonly value: T;
  readonly latencyMs: number;
}

/** An attempt that failed. `error.category` says whether a fan-out layer may fail over. */
export interface Failure<E extends XError = XError> {
  readonly ok: false;
  readonly error: E;
  readonly latencyMs: number;
}

/** The result of one attempt, never thrown-and-caught control flow. */
export type Outcome<T, E extends XError = XError> = Success<T> | Failure<E>;

export function success<T>(value: T, latencyMs: number): Success<T> {
  return { ok: true, value, latencyMs };
}

export function failure<E extends XError>(error: E, latencyMs: number): Failure<E> {
  return { ok: false, error, latencyMs };
}
