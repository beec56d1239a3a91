import type { ContextOf } from './contexts.js';
/**
 * The categories every `@x` error falls into. Strategies and pools decide "fail over or stop?"
 * from the category alone, so a new failure mode must pick one of these, never invent another.
 */
export const ERROR_CATEGORIES = ['network', 'timeout', 'protocol', 'server', 'rate-limit', 'aborted', 'config'] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Structured, machine-readable facts about an error. Never put secrets here. */
export type ErrorContext = Readonly<Record<string, unknown>>;

export interface XErrorOptions<Code extends string, Context extends object = ErrorContext> {
  /** Stable, documented identifier, e.g. `UDP_TIMEOUT`. Safe to switch on; never reworded. */
  readonly code: Code;
  readonly category: ErrorCategory;
  /** Human text. Must not contain secrets (API keys, tokens): redact URLs with `redactUrl`. */
  readonly message: string;
  readonly context?: Context;
  /** The underlying error, kept as the standard `Error.cause`. */
  readonly cause?: unknown;
}

/** Plain-JSON form of an {@link XError}, for logs and APIs. */
export interface XErrorJSON {
  readonly name: string;
  readonly code: string;
  readonly category: ErrorCategory;
  readonly message: string;
  readonly context: ErrorContext;
  readonly cause?: unknown;
}

// A registry symbol (shared across realms and across duplicate copies of this package, e.g. its ESM
// and CJS builds loaded side by side), so `isXError` works where `instanceof` would not.
const BRAND: unique symbol = Symbol.for('@x/errors.XError') as never;

/** The one error class of every `@x` package. */
export class XError<Code extends string = string, Context extends object = ErrorContext> extends Error {
  override readonly name: string = 'XError';
  readonly code: Code;
  readonly category: ErrorCategory;
  readonly context: Context;
  declare readonly [BRAND]: true;

  constructor(options: XErrorOptions<Code, Context>) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!(ERROR_CATEGORIES as readonly string[]).includes(options.category)) {
      throw new TypeError(`XError: unknown category ${JSON.stringify(options.category)}`);
    }
    this.code = options.code;
    this.category = options.category;
    this.context = Object.freeze({ ...(options.context ?? {}) }) as Context;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  toJSON(): XErrorJSON {
    const json: { -readonly [K in keyof XErrorJSON]: XErrorJSON[K] } = {
      name: this.name,
      code: this.code,
      category: this.category,
      message: this.message,
      context: this.context as ErrorContext,
    };
    if (this.cause !== undefined) json.cause = describeCause(this.cause);
    return json;
  }
}

function describeCause(cause: unknown): unknown {
  if (isXError(cause)) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return typeof cause === 'string' || typeof cause === 'number' || typeof cause === 'boolean' ? cause : String(cause);
}

/**
 * True for any `@x` error; with `code` (one or several), also narrows the code and, for codes
 * registered in {@link ErrorContexts}, the shape of `context`.
 */
export function isXError(value: unknown): value is XError;
export function isXError<Code extends string>(value: unknown, code: Code | readonly Code[]): value is XError<Code, ContextOf<Code>>;
export function isXError(value: unknown, code?: string | readonly string[]): value is XError {
  if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[BRAND] !== true) return false;
  if (code === undefined) return true;
  const actual = (value as XError).code;
  return typeof code === 'string' ? actual === code : code.includes(actual);
}

/** True when `value` is an `@x` error of the given category (or one of several). */
export function hasCategory(value: unknown, category: ErrorCategory | readonly ErrorCategory[]): value is XError {
  if (!isXError(value)) return false;
  return typeof category === 'string' ? value.category === category : category.includes(value.category);
}

/**
 * Returns `value` itself when it is already an `@x` error; otherwise wraps it (as `cause`) in a new
 * error with the given code and category. Use at package boundaries where foreign code may throw.
 */
export function toXError(
  value: unknown,
  fallback: { readonly code: string; readonly category: ErrorCategory; readonly message?: string; readonly context?: ErrorContext },
): XError {
  if (isXError(value)) return value;
  const detail = value instanceof Error ? value.message : String(value);
  return new XError({
    code: fallback.code,
    category: fallback.category,
    message: fallback.message ?? detail,
    context: fallback.context ?? {},
    cause: value,
  });
}
