import type { ErrorContext } from './error.js';

/**
 * The registry of typed error contexts, one entry per error code. Each package declares its codes
 * by augmenting this interface:
 *
 * ```ts
 * declare module '@x/errors' {
 *   interface ErrorContexts {
 *     UDP_TIMEOUT: { readonly target: string; readonly timeoutMs: number };
 *   }
 * }
 * ```
 *
 * so that `isXError(e, 'UDP_TIMEOUT')` narrows `e.context` to that shape everywhere, instead of
 * reading untyped records through casts.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ErrorContexts {}

/** The context type registered for `Code`, or the untyped record for a code nobody registered. */
export type ContextOf<Code extends string> = Code extends keyof ErrorContexts ? ErrorContexts[Code] : ErrorContext;
