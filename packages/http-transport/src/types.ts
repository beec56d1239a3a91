import type { Outcome } from '@x/errors';
import type { BigIntegerMode, JsonRpcId, JsonRpcParams } from '@x/json-rpc';

/** Limits of the background read that keeps an aborted call's connection alive (see `drainOnAbort`). */
export interface DrainOnAbortOptions {
  /** Largest response body (in total, bytes) read to its end; a larger one has its connection destroyed. Default 65 536. */
  readonly maxBytes?: number;
  /** Longest wait, from the abort, for the whole response to arrive; past it the connection is destroyed. Default 1 000. */
  readonly maxMs?: number;
}

export interface HttpTransportOptions {
  /** The JSON-RPC endpoint, `http:` or `https:`. API keys in its path or query stay out of every error and label. */
  readonly url: string | URL;
  /** Name used in errors and for metrics. Default: the URL with secrets replaced by `***` (`redactUrl`). */
  readonly label?: string;
  /** Extra request headers (e.g. an `authorization` token). Never copied into errors. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Whole-exchange deadline per call: queueing for a connection, connect, headers and body. Default 10 000. */
  readonly timeoutMs?: number;
  /** Largest response body accepted; reading stops at the limit. Default 10 MiB. */
  readonly maxResponseBytes?: number;
  /** Most simultaneous connections to the endpoint's origin; further calls queue. Default 16. */
  readonly connections?: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining); 0 disables keep-alive. Default 1. */
  readonly pipelining?: number;
  /** How long an idle connection is kept open when the server gives no `Keep-Alive` hint. Default 30 000. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * When a call whose request was already sent is aborted (signal, timeout), it still rejects at once,
   * but its response is read and discarded in the background within these limits so that its
   * connection can be reused; `false` destroys the connection at once. Default `{ maxBytes: 65536, maxMs: 1000 }`.
   */
  readonly drainOnAbort?: DrainOnAbortOptions | false;
  /** JSON-RPC error codes that mean "rate limited" (category `rate-limit`). Default `DEFAULT_RATE_LIMIT_CODES`. */
  readonly rateLimitCodes?: readonly number[];
  /** JSON-RPC error codes that mean "the request is wrong" (category `config`). Default `DEFAULT_CALLER_ERROR_CODES`. */
  readonly callerErrorCodes?: readonly number[];
  /**
   * How integers beyond ±(2^53 − 1) in response bodies are read: `'round'` as `JSON.parse` does (to
   * the nearest double), `'bigint'` exactly as `bigint`s (safe integers and all other numbers stay
   * numbers). Default `'round'`.
   */
  readonly bigIntegers?: BigIntegerMode;
}

export interface CallOptions {
  /** Overrides the transport's `timeoutMs` for this call (one exchange). */
  readonly timeoutMs?: number;
  /** Aborting rejects the call with an `aborted` error at once; its connection is drained (`drainOnAbort`) or destroyed. */
  readonly signal?: AbortSignal;
  /** Overrides the transport's `maxResponseBytes` for this call. */
  readonly maxResponseBytes?: number;
}

export interface SingleCallOptions extends CallOptions {
  /** The JSON-RPC id to send. Default: the transport's next sequence number. */
  readonly id?: JsonRpcId;
}

export interface BatchRequest {
  readonly method: string;
  readonly params?: JsonRpcParams;
  /** Default: the transport's next sequence number not used by another item of the batch. */
  readonly id?: JsonRpcId;
}

/** A result with the time the exchange took (`performance.now()`, float milliseconds). */
export interface TimedResult<T> {
  readonly value: T;
  readonly latencyMs: number;
}

/** One batch item's answer (the `Outcome` of `@x/errors`); `latencyMs` is the whole batch's round trip. */
export type BatchOutcome<T = unknown> = Outcome<T>;

export interface HttpTransport {
  /** Secret-free name of the endpoint, for logs and metric labels. */
  readonly label: string;
  /** Sends one request and resolves with its `result` (not validated: `T` is the caller's claim). */
  call<T = unknown>(method: string, params?: JsonRpcParams, options?: SingleCallOptions): Promise<T>;
  /** {@link HttpTransport.call}, also giving the exchange's latency. */
  callWithLatency<T = unknown>(method: string, params?: JsonRpcParams, options?: SingleCallOptions): Promise<TimedResult<T>>;
  /**
   * Sends several requests in one HTTP request. Resolves with one outcome per request, in request
   * order, matched by id whatever order the server answered in; rejects only when the exchange as a
   * whole fails (network, timeout, HTTP status, unparseable body, abort).
   */
  batch<T = unknown>(requests: readonly BatchRequest[], options?: CallOptions): Promise<BatchOutcome<T>[]>;
  /** Aborts calls in flight (they reject with `HTTP_CLOSED`), waits for them to settle and closes every connection. Idempotent. */
  close(): Promise<void>;
}
