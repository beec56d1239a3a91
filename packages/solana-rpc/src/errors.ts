import { XError, configError, describeValue } from '@x/errors';
import type { ConfigErrorContext, ContextOf, ErrorCategory } from '@x/errors';

/** Every error code this package produces itself (it also passes on those of its dependencies). */
export const SOLANA_RPC_ERROR_CODES = [
  'SOLANA_INVALID_OPTIONS',
  'SOLANA_INVALID_REQUEST',
  'SOLANA_INVALID_TRANSACTION',
  'SOLANA_STALE_SLOT',
  'SOLANA_SLOT_AHEAD',
  'SOLANA_NOT_YET',
  'SOLANA_INVALID_RESULT',
  'SOLANA_SIGNATURE_MISMATCH',
  'SOLANA_NO_CONSENSUS',
  'SOLANA_SEND_FAILED',
  'SOLANA_CLOSED',
  'SOLANA_STATE_FILE',
  'SOLANA_PROVIDER_REPLACED',
] as const;

export type SolanaRpcErrorCode = (typeof SOLANA_RPC_ERROR_CODES)[number];

/** Who answered what: the endpoint's id and secret-free label. */
type EndpointNamed = {
  readonly endpoint: string;
  readonly label: string;
};

/** One endpoint's answer to a broadcast (also `SolanaBroadcastOutcome`, re-declared here to keep this file a leaf). */
export type BroadcastOutcomeContext =
  | (EndpointNamed & { readonly ok: true; readonly value: unknown; readonly latencyMs: number })
  | (EndpointNamed & { readonly ok: false; readonly error: XError; readonly latencyMs: number; readonly aborted: boolean });

/** The context of `SOLANA_NO_CONSENSUS`. */
export type NoConsensusContext = {
  readonly method: string;
  /** `disagreement`: answers split with no group reaching the quorum; otherwise too few answered. */
  readonly reason: 'disagreement' | 'too-few';
  readonly quorum: number;
  readonly groups: ReadonlyArray<{ readonly endpoints: readonly string[]; readonly slot: number | undefined }>;
  readonly abstained: readonly string[];
  readonly failures: ReadonlyArray<{ readonly endpoint: string; readonly error: XError }>;
  readonly unanswered: readonly string[];
  readonly deadlineMs: number;
};

declare module '@x/errors' {
  interface ErrorContexts {
    SOLANA_INVALID_OPTIONS: ConfigErrorContext;
    SOLANA_INVALID_REQUEST: { readonly method?: string; readonly path?: string };
    SOLANA_INVALID_TRANSACTION: Record<string, never>;
    SOLANA_STALE_SLOT: EndpointNamed & {
      readonly method: string;
      readonly commitment: string;
      readonly slot: number;
      readonly watermark: number;
      readonly maxSlotLag: number;
    };
    SOLANA_SLOT_AHEAD: EndpointNamed & {
      readonly commitment: string;
      readonly method?: string;
      readonly slot?: number;
      readonly ceiling?: number;
    };
    SOLANA_NOT_YET: EndpointNamed & { readonly method: string };
    SOLANA_INVALID_RESULT: EndpointNamed & { readonly method: string };
    SOLANA_SIGNATURE_MISMATCH: EndpointNamed & { readonly expected: string; readonly received: string };
    SOLANA_NO_CONSENSUS: NoConsensusContext;
    SOLANA_SEND_FAILED: { readonly method: string; readonly outcomes: readonly BroadcastOutcomeContext[] };
    SOLANA_CLOSED: Record<string, never>;
    SOLANA_STATE_FILE: { readonly file: string };
    /** A merged subscription's provider that stayed disconnected (or ended) was replaced by another one. */
    SOLANA_PROVIDER_REPLACED: { readonly endpoint: string; readonly replacement: string };
  }
}

export function solanaError<Code extends SolanaRpcErrorCode>(
  code: Code,
  category: ErrorCategory,
  message: string,
  context: ContextOf<Code>,
  cause?: unknown,
): XError<Code, ContextOf<Code>> {
  return new XError<Code, ContextOf<Code>>({ code, category, message, context, cause });
}

/** A configuration error: `context.option` names the option; the message is `option: what is wrong`. */
export function invalidOptions(option: string, message: string): XError<'SOLANA_INVALID_OPTIONS', ConfigErrorContext> {
  return configError('SOLANA_INVALID_OPTIONS', option, `${option}: ${message}`);
}

export function invalidRequest(
  message: string,
  context: { readonly method?: string; readonly path?: string } = {},
): XError<'SOLANA_INVALID_REQUEST', ContextOf<'SOLANA_INVALID_REQUEST'>> {
  return solanaError('SOLANA_INVALID_REQUEST', 'config', message, context);
}

/**
 * A short, secret-free description of a value for error messages: `describeValue` of `@x/errors`, except that a
 * long string (a transaction, a URL with a key) is never quoted, not even in part.
 */
export function describe(value: unknown): string {
  return typeof value === 'string' && value.length > 40 ? 'a long string' : describeValue(value);
}
