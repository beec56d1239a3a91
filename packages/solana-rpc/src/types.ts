import type { XError } from '@x/errors';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import type { EndpointBudget, Pool, PoolExport, PoolOptions } from '@x/pool';
import type { SolanaStateOptions, SolanaStateRestore } from './state.js';
import type { JsonRpcParams } from '@x/json-rpc';
import type { SolanaBatchCall, SolanaBatchOptions, SolanaBatchOutcome } from './batch.js';
import type { MethodPolicy, MethodPolicyOverride } from './policy.js';
import type { SolanaCommitment } from './params.js';
import type { TransactionEncoding } from './transaction.js';

export interface SolanaEndpointConfig {
  /**
   * The provider's JSON-RPC URL; API keys in its path or query never appear in errors, labels or metrics.
   * Required unless `transport` is given (then it only names the endpoint: its default id and pool target).
   */
  readonly url?: string | URL;
  /**
   * A ready transport to this endpoint (e.g. `createHttpTransport(...)`, or a fake in tests). Its owner closes
   * it: `close()` of the client does not. Without it, the client makes one (`createTransport`).
   */
  readonly transport?: HttpTransport;
  /** Stable id for snapshots and metrics. Default: the URL's `host` (`#2`, `#3`… appended to repeats). Must not contain a secret of the URL. */
  readonly id?: string;
  /** Human name. Default: the URL with secrets replaced by `***`. */
  readonly label?: string;
  /** Fixed role for the `dual` strategy; without it the pool classifies the endpoint by latency. */
  readonly role?: 'primary' | 'secondary';
  /** Relative share of traffic (the pool's ranking divides by it). Default 1. */
  readonly weight?: number;
  /** Extra headers for this endpoint only (e.g. an auth token), merged over `http.headers`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The provider's limits (requests per second, burst, concurrency, credits per method): the pool's endpoint `budget`. */
  readonly budget?: EndpointBudget;
}

/** `@x/http-transport` options shared by every endpoint (the URL and label come from each endpoint). */
export type SolanaHttpOptions = Omit<HttpTransportOptions, 'url' | 'label'>;

/** `@x/pool` options (everything but `endpoints`, which come from `endpoints`). */
export type SolanaPoolOptions = Omit<PoolOptions<string>, 'endpoints'>;

export interface SolanaRpcOptions {
  readonly endpoints: readonly SolanaEndpointConfig[];
  /** Per-method policy, merged over the preset (or over `defaults` for methods without one). */
  readonly methods?: Readonly<Record<string, MethodPolicyOverride>>;
  /** Policy of methods without a preset, merged over `DEFAULT_METHOD_POLICY` (one attempt: `single`). */
  readonly defaults?: MethodPolicyOverride;
  /**
   * Methods that change state besides `sendTransaction` and `requestAirdrop` (e.g. a bundle submission):
   * sent once to every chosen endpoint (`DEFAULT_WRITE_POLICY`, broadcast), and only `broadcast` or
   * `single` may be configured for them.
   */
  readonly writes?: readonly string[];
  /** Answers more than this many slots below the watermark are rejected as stale. Default 4 (`DEFAULT_MAX_SLOT_LAG`). */
  readonly maxSlotLag?: number;
  /**
   * Endpoints that must have shown a slot before the watermark reaches it, and that must agree before
   * an endpoint far ahead of them is suspect. Default: a strict majority of the endpoints. 1 trusts
   * every single endpoint (one lying node can then make the honest ones look stale).
   */
  readonly slotQuorum?: number;
  /** Warm start: a saved pool state to restore (health, ejections, latency, cool-downs), see the README. */
  readonly state?: SolanaStateOptions;
  readonly pool?: SolanaPoolOptions;
  readonly http?: SolanaHttpOptions;
  /**
   * Makes the transport of each endpoint given without a ready `transport`, from the options the client
   * computed (its URL, label, headers, Solana's rate-limit and caller codes, exact u64 integers, `http`).
   * The client closes what it makes. Default: `createHttpTransport` of `@x/http-transport`.
   */
  readonly createTransport?: (options: HttpTransportOptions) => HttpTransport;
}

/** Per-call options: any policy field (overrides the method's policy for this call) plus these. */
export interface SolanaCallOptions extends MethodPolicyOverride {
  /** Cancels the call; every request in flight is aborted and its connection freed. */
  readonly signal?: AbortSignal;
  /** Sets the commitment in the method's config object (`preflightCommitment` for sendTransaction). */
  readonly commitment?: SolanaCommitment;
  /** Sets `minContextSlot`: a slot, or `'watermark'` for the highest slot seen at the call's commitment (monotonic reads). */
  readonly minContextSlot?: number | 'watermark';
}

export interface SolanaRpc {
  /** Sends one JSON-RPC call with the method's policy; resolves with its `result`. */
  call<T = unknown>(method: string, params?: JsonRpcParams, options?: SolanaCallOptions): Promise<T>;
  /**
   * Several calls in as few upstream requests as their strategies allow: race, hedge and single reads go
   * together as one JSON-RPC batch to the best endpoint (failing over once); consensus, dual and writes
   * go on their own. One outcome per call, in order. See the README.
   */
  callBatch(calls: readonly SolanaBatchCall[], options?: SolanaBatchOptions): Promise<SolanaBatchOutcome[]>;
  /** {@link SolanaRpc.call}, with who answered, every attempt and the vote or broadcast detail. */
  callWithDetails<T = unknown>(method: string, params?: JsonRpcParams, options?: SolanaCallOptions): Promise<SolanaCallDetails<T>>;
  /** Sends a signed transaction to several endpoints at once, exactly once each; see the README. */
  sendTransaction(transaction: string | Uint8Array, options?: SendTransactionOptions): Promise<SendTransactionResult>;
  /** The watermark at `commitment` (the highest slot a quorum of endpoints has shown), or the highest of all without one; `undefined` before a quorum answered. */
  slotWatermark(commitment?: SolanaCommitment): number | undefined;
  /** The policy a call of `method` uses before per-call overrides. */
  policyFor(method: string): MethodPolicy;
  /** Ids and secret-free labels of the endpoints, in configuration order. */
  readonly endpoints: ReadonlyArray<{ readonly id: string; readonly label: string }>;
  /** The `@x/pool` instance: `snapshot()`, `metrics()`, `export()`… Targets are the endpoint URLs. */
  readonly pool: Pool<string>;
  /** What became of `state.restore` at creation. */
  readonly restoredState: SolanaStateRestore;
  /** The state to save for the next start (`pool.export()`: plain JSON, secret-free), e.g. with `saveStateFile`. */
  exportState(): PoolExport;
  /** Aborts what is in flight and closes every connection. Later calls reject with `SOLANA_CLOSED`. Idempotent. */
  close(): Promise<void>;
}

/** One attempt of a call, as reported in {@link SolanaCallDetails.attempts}. */
export interface SolanaAttemptReport {
  readonly endpoint: string;
  readonly label: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  /** The answer's `context.slot` (or getSlot's result), when it carried one. */
  readonly slot: number | undefined;
  readonly error: XError | undefined;
  /** Aborted by the strategy because the call was already decided: not a failure of the endpoint. */
  readonly abortedAsLoser: boolean;
}

/** One answer in a consensus vote. */
export interface SolanaVote {
  readonly endpoint: string;
  readonly label: string;
  readonly slot: number | undefined;
  readonly latencyMs: number;
}

export interface SolanaConsensusReport {
  /** Agreeing answers that were needed. */
  readonly quorum: number;
  /** Answers equal to (or, for signature lists, compatible with) the result. */
  readonly agreed: readonly SolanaVote[];
  /** Answers that differ from the result. */
  readonly dissented: readonly SolanaVote[];
  /** `null` answers of a method where null means "not yet" (getTransaction). */
  readonly abstained: readonly SolanaVote[];
  readonly failed: ReadonlyArray<{ readonly endpoint: string; readonly label: string; readonly error: XError; readonly latencyMs: number }>;
  /** Asked but cut before answering (decided early, deadline, abort). */
  readonly unanswered: ReadonlyArray<{ readonly endpoint: string; readonly label: string }>;
}

/** One endpoint's answer to a broadcast (sendTransaction). */
export type SolanaBroadcastOutcome<T = unknown> =
  | { readonly endpoint: string; readonly label: string; readonly ok: true; readonly value: T; readonly latencyMs: number }
  | {
      readonly endpoint: string;
      readonly label: string;
      readonly ok: false;
      readonly error: XError;
      readonly latencyMs: number;
      readonly aborted: boolean;
    };

export interface SolanaCallDetails<T = unknown> {
  readonly result: T;
  readonly method: string;
  /** The policy the call ran with (preset, client overrides and call overrides merged). */
  readonly policy: MethodPolicy;
  /** The endpoint whose answer is `result`; `undefined` when it is merged from several (signature lists) or a null nobody contradicted. */
  readonly endpoint: string | undefined;
  /** The result's `context.slot` (for consensus: the freshest agreeing answer's). */
  readonly slot: number | undefined;
  /** From the call to its result. */
  readonly latencyMs: number;
  /** Every request the call made, in the order they finished. */
  readonly attempts: readonly SolanaAttemptReport[];
  readonly consensus: SolanaConsensusReport | undefined;
  /** Every endpoint's answer, in the order the endpoints were chosen (broadcast only). */
  readonly broadcast: ReadonlyArray<SolanaBroadcastOutcome<T>> | undefined;
}

export interface SendTransactionOptions {
  /** How a string `transaction` is encoded. Default `'base64'`. A `Uint8Array` is sent as base64. */
  readonly encoding?: TransactionEncoding;
  readonly skipPreflight?: boolean;
  readonly preflightCommitment?: SolanaCommitment;
  /** The node's own rebroadcast count (Solana's `maxRetries`); this client never resends. */
  readonly maxRetries?: number;
  readonly minContextSlot?: number | 'watermark';
  readonly signal?: AbortSignal;
  /** Overrides the sendTransaction policy for this call. Only `broadcast` and `single` send writes. */
  readonly strategy?: 'broadcast' | 'single';
  /** The budget of the whole call (was `timeoutMs` before 0.x: renamed). */
  readonly deadlineMs?: number;
  readonly attemptTimeoutMs?: number;
  readonly maxCandidates?: number;
  /** Called once, as soon as the first endpoint accepts (before the others have answered). Exceptions are ignored. */
  readonly onAccepted?: (acceptance: { readonly signature: string; readonly endpoint: string; readonly latencyMs: number }) => void;
}

export interface SendTransactionResult {
  /** The transaction's signature, as the first accepting endpoint returned it (and checked against the transaction). */
  readonly signature: string;
  /** The first endpoint that accepted it. */
  readonly endpoint: string;
  /** That endpoint's latency. */
  readonly latencyMs: number;
  /** Every chosen endpoint's answer, in the order they were chosen. */
  readonly outcomes: ReadonlyArray<SolanaBroadcastOutcome<string>>;
}
