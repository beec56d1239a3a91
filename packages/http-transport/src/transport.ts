import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { abortedError, isPlainObject, isXError, redactSecrets, redactUrl, secretsOfUrl, throwIfAborted } from '@x/errors';
import type { XError } from '@x/errors';
import { rpcFailure, statusFailure, transportFailure } from './classify.js';
import type { ClassifyEnvironment, ResponseFacts } from './classify.js';
import { httpError, safeText } from './errors.js';
import { describeId, parseResponse } from '@x/json-rpc';
import type { JsonRpcErrorObject, JsonRpcId, JsonRpcParams } from '@x/json-rpc';
import { BIG_INTEGER_MODES, jsonParserFor, stringifyJson } from '@x/json-rpc';
import type { BigIntegerMode } from '@x/json-rpc';
import { parseRetryAfter } from './retry-after.js';

/** JSON-RPC codes answered as `rate-limit` unless `rateLimitCodes` says otherwise. */
export const DEFAULT_RATE_LIMIT_CODES: readonly number[] = Object.freeze([-32005, -32429, 429]);
/** JSON-RPC codes answered as caller errors (`config`) unless `callerErrorCodes` says otherwise. */
export const DEFAULT_CALLER_ERROR_CODES: readonly number[] = Object.freeze([-32600, -32601, -32602]);

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const DEFAULT_CONNECTIONS = 16;
const DEFAULT_PIPELINING = 1;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
// An error response's body is read only for its message; a small cap keeps a huge error page from
// costing more than the error is worth (the connection is then dropped instead of reused).
const ERROR_BODY_BYTES = 64 * 1024;
// Enough for any JSON-RPC answer a read would get; a bigger one costs more to drain than a new connection.
const DEFAULT_DRAIN_MAX_BYTES = 64 * 1024;
const DEFAULT_DRAIN_MAX_MS = 1_000;
// setTimeout fires at once for delays beyond a signed 32-bit integer.
const MAX_TIMER_MS = 2_147_483_647;

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
  /** JSON-RPC error codes that mean "rate limited" (category `rate-limit`). Default {@link DEFAULT_RATE_LIMIT_CODES}. */
  readonly rateLimitCodes?: readonly number[];
  /** JSON-RPC error codes that mean "the request is wrong" (category `config`). Default {@link DEFAULT_CALLER_ERROR_CODES}. */
  readonly callerErrorCodes?: readonly number[];
  /**
   * How integers beyond ±(2^53 − 1) in response bodies are read: `'round'` as `JSON.parse` does (to
   * the nearest double), `'bigint'` exactly as `bigint`s (safe integers and all other numbers stay
   * numbers). Default `'round'`.
   */
  readonly bigIntegers?: BigIntegerMode;
}

export interface CallOptions {
  /** Overrides the transport's `timeoutMs` for this call. */
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

/** One batch item's answer; `latencyMs` is the whole batch's round trip. */
export type BatchOutcome<T = unknown> =
  | { readonly ok: true; readonly value: T; readonly latencyMs: number }
  | { readonly ok: false; readonly error: XError; readonly latencyMs: number };

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

interface Exchanged {
  readonly json: unknown;
  readonly facts: ResponseFacts;
  readonly latencyMs: number;
}

function invalidOptions(message: string, context: Record<string, unknown> = {}): XError {
  return httpError('HTTP_INVALID_OPTIONS', 'config', message, context);
}

function checkCount(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw invalidOptions(`${name} must be an integer >= ${min}`, { [name]: value });
  return value;
}

function checkDuration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw invalidOptions(`${name} must be a number of milliseconds in (0, ${MAX_TIMER_MS}]`, { [name]: value });
  }
  return value;
}

interface DrainLimits {
  readonly maxBytes: number;
  readonly maxMs: number;
}

function checkDrain(value: DrainOnAbortOptions | false | undefined): DrainLimits | false {
  if (value === undefined) return { maxBytes: DEFAULT_DRAIN_MAX_BYTES, maxMs: DEFAULT_DRAIN_MAX_MS };
  if (value === false) return false;
  if (!isPlainObject(value)) throw invalidOptions('drainOnAbort must be false or an object { maxBytes?, maxMs? }');
  const { maxBytes, maxMs } = value as DrainOnAbortOptions;
  try {
    return { maxBytes: checkCount('maxBytes', maxBytes, DEFAULT_DRAIN_MAX_BYTES, 0), maxMs: checkDuration('maxMs', maxMs, DEFAULT_DRAIN_MAX_MS) };
  } catch (error) {
    throw invalidOptions(`drainOnAbort.${(error as Error).message}`, { drainOnAbort: { maxBytes, maxMs } });
  }
}

function checkCodes(name: string, value: readonly number[] | undefined, fallback: readonly number[]): ReadonlySet<number> {
  const codes = value ?? fallback;
  if (!Array.isArray(codes) || !codes.every((code) => Number.isInteger(code))) throw invalidOptions(`${name} must be an array of integers`);
  return new Set(codes);
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
// Connection management belongs to the pool; letting a caller set these would break keep-alive accounting.
const RESERVED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function buildHeaders(url: URL, extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (url.username !== '' || url.password !== '') {
    const user = decodeLoosely(url.username);
    const password = decodeLoosely(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  if (extra === undefined) return headers;
  if (!isPlainObject(extra)) throw invalidOptions('headers must be an object of strings');
  for (const [name, value] of Object.entries(extra)) {
    // Header names are echoed to help fix them; values may be tokens and never are.
    if (!HEADER_NAME.test(name)) throw invalidOptions('headers: a header name is not a valid HTTP token', { header: name.slice(0, 64) });
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalidOptions(`headers: ${name} is managed by the transport`, { header: name });
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw invalidOptions(`headers: the value of ${name} must be a string without CR, LF or NUL`, { header: name });
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

// Header values that describe the payload rather than the caller are not credentials.
const NON_SECRET_HEADERS = new Set(['content-type', 'accept']);
// Shorter values (`1`, `true`, `no-cache`) are not credentials, and redacting them would only mangle messages.
const MIN_HEADER_SECRET_LENGTH = 8;

/**
 * The credentials among the caller's extra headers (`authorization: Bearer …`, `x-api-key: …`): each
 * value, and each of its words (the token without its scheme), so that a server quoting them back in
 * a body or a JSON-RPC error cannot put them into an error. Tolerates input `buildHeaders` will refuse.
 */
function secretsOfHeaders(extra: unknown): string[] {
  if (!isPlainObject(extra)) return [];
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(extra)) {
    if (typeof value !== 'string' || NON_SECRET_HEADERS.has(name.toLowerCase())) continue;
    for (const candidate of [value.trim(), ...value.split(/\s+/)]) {
      if (candidate.length >= MIN_HEADER_SECRET_LENGTH) secrets.push(candidate);
    }
  }
  return [...new Set(secrets)];
}

function parseUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(typeof input === 'string' ? input : input.href);
  } catch {
    throw invalidOptions('url is not a valid absolute URL', { url: redactUrl(String(input)) });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidOptions('url must use http: or https:', { url: redactUrl(url) });
  }
  return url;
}

function invalidRequest(message: string, context: Record<string, unknown>, cause?: unknown): XError {
  return httpError('HTTP_INVALID_REQUEST', 'config', message, context, cause);
}

function checkId(id: unknown, endpoint: string): asserts id is JsonRpcId {
  if (typeof id === 'string' || Number.isSafeInteger(id)) return;
  throw invalidRequest('A JSON-RPC id must be a string or a safe integer', { endpoint });
}

function checkRequest(method: unknown, params: unknown, endpoint: string): void {
  if (typeof method !== 'string' || method === '') throw invalidRequest('The JSON-RPC method must be a non-empty string', { endpoint });
  if (params !== undefined && !Array.isArray(params) && !isPlainObject(params)) {
    throw invalidRequest('JSON-RPC params must be an array or an object', { endpoint, method });
  }
}

interface ReadResult {
  readonly bytes: Buffer;
  readonly complete: boolean;
}

/**
 * Reads at most `limit` bytes; past the limit it stops and reports `complete: false` (the caller destroys the body).
 * When `signal` aborts it rejects at once with the signal's reason and leaves the body paused and
 * intact, so that the caller can still drain it to keep its connection.
 */
function readLimited(body: Readable, limit: number, signal: AbortSignal): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      body.pause();
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limit) {
        chunks.push(chunk.subarray(0, limit - size));
        stop();
        resolve({ bytes: Buffer.concat(chunks), complete: false });
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve({ bytes: Buffer.concat(chunks, size), complete: true });
    };
    const onError = (error: Error): void => {
      stop();
      reject(error);
    };
    // A body destroyed without an error (no 'end' came first) was cut short.
    const onClose = (): void => {
      stop();
      reject(Object.assign(new Error('The response body was closed before it ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    const onAbort = (): void => {
      stop();
      reject(signal.reason as Error);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    if (body.readableEnded) {
      resolve({ bytes: Buffer.alloc(0), complete: true });
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    body.resume();
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Creates a JSON-RPC 2.0 client for one HTTP endpoint, with its own keep-alive connection pool. */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  if (!isPlainObject(options)) throw invalidOptions('createHttpTransport needs an options object');
  const url = parseUrl(options.url);
  const secrets = [...secretsOfUrl(url), ...secretsOfHeaders(options.headers)];
  if (options.label !== undefined && (typeof options.label !== 'string' || options.label.trim() === '')) {
    throw invalidOptions('label must be a non-empty string');
  }
  const label = options.label === undefined ? redactUrl(url) : redactSecrets(options.label, secrets);
  const defaultTimeoutMs = checkDuration('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
  const defaultMaxBytes = checkCount('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 1);
  const connections = checkCount('connections', options.connections, DEFAULT_CONNECTIONS, 1);
  const pipelining = checkCount('pipelining', options.pipelining, DEFAULT_PIPELINING, 0);
  const keepAliveTimeoutMs = checkDuration('keepAliveTimeoutMs', options.keepAliveTimeoutMs, DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
  const drainLimits = checkDrain(options.drainOnAbort);
  const env: ClassifyEnvironment = {
    label,
    secrets,
    rpcCodes: {
      rateLimit: checkCodes('rateLimitCodes', options.rateLimitCodes, DEFAULT_RATE_LIMIT_CODES),
      caller: checkCodes('callerErrorCodes', options.callerErrorCodes, DEFAULT_CALLER_ERROR_CODES),
    },
  };
  if (options.bigIntegers !== undefined && !BIG_INTEGER_MODES.includes(options.bigIntegers)) {
    throw invalidOptions(`bigIntegers must be one of ${BIG_INTEGER_MODES.join(', ')}`);
  }
  const parseJson = jsonParserFor(options.bigIntegers ?? 'round');
  const headers = buildHeaders(url, options.headers);
  const path = `${url.pathname}${url.search}`;
  const pool = new Pool(url.origin, { connections, pipelining, keepAliveTimeout: keepAliveTimeoutMs });

  let closing: Promise<void> | undefined;
  const running = new Map<AbortController, Promise<unknown>>();
  let lastId = 0;

  // Calls beyond what the connections can carry wait here rather than in undici's queue: undici
  // keeps an aborted queued request until a connection frees up and then spends that connection on
  // it (connect, then destroy). Here an aborted waiter is simply dropped.
  const maxInFlight = connections * Math.max(pipelining, 1);
  let inFlight = 0;
  const waiting = new Set<() => void>();

  const acquireSlot = (signal: AbortSignal): Promise<void> => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (inFlight < maxInFlight) {
      inFlight += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        inFlight += 1;
        resolve();
      };
      const onAbort = (): void => {
        waiting.delete(grant);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiting.add(grant);
    });
  };

  const releaseSlot = (): void => {
    inFlight -= 1;
    const next = waiting.values().next();
    if (next.done === true) return;
    waiting.delete(next.value);
    next.value();
  };

  // undici calls a request's `onRequestStart` right before it writes the request to a socket; a
  // request aborted before that was never sent, so it must not be drained (that would send it after
  // the caller gave up). The interceptor reports that moment to the call owning the request's signal.
  const onSent = new WeakMap<object, () => void>();
  const dispatcher = pool.compose(
    (dispatch) => (dispatchOptions, handler) => {
      // `request()` passes its options, signal included, down to dispatch; the type does not say so.
      const { signal } = dispatchOptions as { signal?: object | null };
      const report = signal == null ? undefined : onSent.get(signal);
      if (report === undefined) return dispatch(dispatchOptions, handler);
      const watched = new Proxy(handler, {
        get(target, key) {
          const value: unknown = Reflect.get(target, key);
          if (typeof value !== 'function') return value;
          const method = value as (...args: unknown[]) => unknown;
          if (key !== 'onRequestStart') return method.bind(target);
          return (...args: unknown[]): unknown => {
            report();
            return method.apply(target, args);
          };
        },
      });
      return dispatch(dispatchOptions, watched);
    },
  );

  /** Sends the request; `wire` aborting is what cuts it (and its connection), not the call's own signal. */
  const send = (payload: string, wire: AbortSignal, sent: () => void): Promise<Dispatcher.ResponseData> => {
    onSent.set(wire, sent);
    const pending = dispatcher.request({ path, method: 'POST', headers, body: payload, signal: wire });
    // Whoever stops waiting for it (an abort) still leaves the promise handled.
    pending.catch(() => {});
    return pending;
  };

  /** Settles with `pending`, or rejects with `signal`'s reason as soon as it aborts, leaving `pending` running. */
  const untilAborted = <T>(pending: Promise<T>, signal: AbortSignal): Promise<T> =>
    new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: Error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });

  // Aborted calls whose response is still being read and discarded, each holding its slot until done.
  const draining = new Map<AbortController, Promise<void>>();

  /**
   * Reads and discards the response of a call that already settled, so its connection goes back to
   * the pool; past `drainLimits` (or on close) `wire` aborts, which destroys the connection as an
   * aborted call always did. The call's slot is released only when this is over: a connection being
   * drained is busy.
   */
  const drainInBackground = (pending: Promise<Dispatcher.ResponseData>, wire: AbortController, limits: DrainLimits): void => {
    const timer = setTimeout(() => wire.abort(), limits.maxMs);
    const drained = pending
      .then(async (response) => {
        response.body.on('error', () => {});
        await response.body.dump({ limit: limits.maxBytes, signal: wire.signal });
      })
      .catch(() => {
        // A failed or cut drain only costs the connection, which undici has already dropped.
      })
      .finally(() => {
        clearTimeout(timer);
        draining.delete(wire);
        releaseSlot();
      });
    draining.set(wire, drained);
  };

  const nextId = (): number => {
    lastId = lastId >= Number.MAX_SAFE_INTEGER ? 1 : lastId + 1;
    return lastId;
  };

  const closedError = (): XError => httpError('HTTP_CLOSED', 'aborted', `The transport for ${label} is closed`, { endpoint: label });

  const callSettings = (callOptions: CallOptions | undefined): { timeoutMs: number; maxBytes: number; signal: AbortSignal | undefined } => {
    if (callOptions !== undefined && (typeof callOptions !== 'object' || callOptions === null)) throw invalidRequest('Call options must be an object', { endpoint: label });
    const signal = callOptions?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidRequest('signal must be an AbortSignal', { endpoint: label });
    try {
      return {
        timeoutMs: checkDuration('timeoutMs', callOptions?.timeoutMs, defaultTimeoutMs),
        maxBytes: checkCount('maxResponseBytes', callOptions?.maxResponseBytes, defaultMaxBytes, 1),
        signal,
      };
    } catch (error) {
      throw invalidRequest((error as Error).message, { endpoint: label });
    }
  };

  const serialise = (payload: unknown, method: string | undefined): string => {
    try {
      // A bigint is written as a JSON integer with all its digits.
      const text = stringifyJson(payload);
      if (text !== undefined) return text;
      throw new TypeError('the request has no JSON representation');
    } catch (error) {
      // Circular params, a throwing toJSON: the message names the problem, not the data.
      throw invalidRequest(`The request cannot be serialised as JSON: ${safeText((error as Error).message, secrets)}`, { endpoint: label, method }, error);
    }
  };

  // No cause: the JSON parser's SyntaxError quotes a few characters of the body, possibly the start of a
  // secret too short for redactSecrets to recognise.
  const malformed = (bytes: Buffer, facts: ResponseFacts, contentType: string | undefined): XError => {
    const context: Record<string, unknown> = { endpoint: label, status: facts.status, bytes: bytes.length };
    if (contentType !== undefined) context.contentType = safeText(contentType, secrets);
    const excerpt = safeText(bytes.subarray(0, ERROR_BODY_BYTES).toString('utf8'), secrets);
    if (excerpt !== '') context.body = excerpt;
    const what = bytes.length === 0 ? 'an empty body' : 'a body that is not JSON';
    return httpError('HTTP_MALFORMED_RESPONSE', 'protocol', `${label} answered with ${what}`, context);
  };

  const tooLarge = (limitBytes: number, facts: ResponseFacts, contentLength: number | undefined): XError =>
    httpError(
      'HTTP_RESPONSE_TOO_LARGE',
      'protocol',
      `${label} sent a response body larger than ${limitBytes} bytes`,
      contentLength === undefined ? { endpoint: label, status: facts.status, limitBytes } : { endpoint: label, status: facts.status, limitBytes, contentLength },
    );

  const failureFromStatus = async (response: Dispatcher.ResponseData, facts: ResponseFacts, maxBytes: number, signal: AbortSignal): Promise<XError> => {
    let bodyText: string | undefined;
    let rpcError: JsonRpcErrorObject | undefined;
    try {
      const read = await readLimited(response.body, Math.min(maxBytes, ERROR_BODY_BYTES), signal);
      bodyText = read.bytes.toString('utf8');
      if (read.complete) {
        const parsed = parseResponse(parseJson(bodyText));
        if (parsed.kind === 'error') rpcError = parsed.error;
      }
    } catch {
      // The status already tells what happened; a body that is unreadable, not JSON or cut short by
      // the deadline only loses the detail.
    }
    if (rpcError !== undefined && facts.status !== 429) return rpcFailure(rpcError, facts, env);
    return statusFailure(facts, { bodyText, rpcError }, env);
  };

  const perform = async (payload: string, settings: ReturnType<typeof callSettings>, controller: AbortController): Promise<Exchanged> => {
    const { timeoutMs, maxBytes, signal } = settings;
    let phase: 'queued' | 'response' | 'body' = 'queued';
    const timer = setTimeout(() => {
      const waited = { queued: 'no free connection', response: 'no response', body: 'the response body was not complete' }[phase];
      controller.abort(httpError('HTTP_TIMEOUT', 'timeout', `${label}: ${waited} within ${timeoutMs} ms`, { endpoint: label, timeoutMs, phase }));
    }, timeoutMs);
    const onCallerAbort = (): void => controller.abort(abortedError(signal?.reason));
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    const started = performance.now();
    let response: Dispatcher.ResponseData | undefined;
    let pending: Promise<Dispatcher.ResponseData> | undefined;
    const wire = new AbortController();
    const request = { sent: false };
    let holdsSlot = false;
    try {
      await acquireSlot(controller.signal);
      holdsSlot = true;
      phase = 'response';
      pending = send(payload, wire.signal, () => {
        request.sent = true;
      });
      response = await untilAborted(pending, controller.signal);
      // Errors reach us through readLimited; this listener only keeps a destroyed body from raising
      // an unhandled 'error' event.
      response.body.on('error', () => {});
      phase = 'body';
      const facts: ResponseFacts = {
        status: response.statusCode,
        retryAfterMs: parseRetryAfter(headerText(response.headers['retry-after'])),
      };
      if (facts.status < 200 || facts.status > 299) throw await failureFromStatus(response, facts, maxBytes, controller.signal);
      const declared = Number(headerText(response.headers['content-length']) ?? Number.NaN);
      if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes, facts, declared);
      const read = await readLimited(response.body, maxBytes, controller.signal);
      if (!read.complete) throw tooLarge(maxBytes, facts, undefined);
      let json: unknown;
      try {
        json = parseJson(read.bytes.toString('utf8'));
      } catch {
        throw malformed(read.bytes, facts, headerText(response.headers['content-type']));
      }
      return { json, facts, latencyMs: performance.now() - started };
    } catch (error) {
      const drainable = controller.signal.aborted && request.sent && drainLimits !== false && pipelining > 0 && closing === undefined;
      if (pending !== undefined && drainable) {
        drainInBackground(pending, wire, drainLimits);
        holdsSlot = false;
      } else {
        // Destroying an unfinished body (or aborting a request still waiting for its headers) makes
        // undici drop its connection, so the pool slot is free again; on a finished body it does nothing.
        response?.body.destroy();
        wire.abort();
      }
      if (isXError(error)) throw error;
      // The reason is always an XError this transport set: a timeout, the caller's abort or close().
      if (controller.signal.aborted) throw controller.signal.reason;
      throw transportFailure(error, env);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
      if (holdsSlot) releaseSlot();
    }
  };

  const exchange = async (payload: string, settings: ReturnType<typeof callSettings>): Promise<Exchanged> => {
    if (closing !== undefined) throw closedError();
    throwIfAborted(settings.signal);
    const controller = new AbortController();
    const attempt = perform(payload, settings, controller);
    running.set(controller, attempt);
    const forget = (): void => {
      running.delete(controller);
    };
    attempt.then(forget, forget);
    return attempt;
  };

  const idMismatch = (message: string, context: Record<string, unknown>): XError =>
    httpError('HTTP_RPC_ID_MISMATCH', 'protocol', `${label} ${message}`, { endpoint: label, ...context });

  const invalidResponse = (reason: string, status: number): XError =>
    httpError('HTTP_RPC_INVALID_RESPONSE', 'protocol', `${label} sent an invalid JSON-RPC response: ${reason}`, { endpoint: label, status });

  const receivedId = (id: JsonRpcId | null | undefined): string => safeText(describeId(id), secrets);

  const interpretSingle = (json: unknown, id: JsonRpcId, facts: ResponseFacts): unknown => {
    if (Array.isArray(json)) throw invalidResponse('an array (batch) answered a single call', facts.status);
    const parsed = parseResponse(json);
    if (parsed.kind === 'invalid') throw invalidResponse(parsed.reason, facts.status);
    // An error the server could not tie to a request carries a null (or, from lax servers, no) id.
    const matches = parsed.id === id || (parsed.kind === 'error' && (parsed.id === null || parsed.id === undefined));
    if (!matches) {
      throw idMismatch(`answered id ${receivedId(parsed.id)} to a request with id ${describeId(id)}`, { expectedId: id, receivedId: receivedId(parsed.id) });
    }
    if (parsed.kind === 'error') throw rpcFailure(parsed.error, facts, env);
    return parsed.value;
  };

  const matchBatch = <T>(json: unknown, ids: readonly JsonRpcId[], exchanged: Exchanged): BatchOutcome<T>[] => {
    const { facts, latencyMs } = exchanged;
    if (!Array.isArray(json)) {
      const parsed = parseResponse(json);
      // A single error with no id answers the whole batch: the server refused it (rate limit, batch
      // not supported, ...).
      if (parsed.kind === 'error' && (parsed.id === null || parsed.id === undefined)) throw rpcFailure(parsed.error, facts, env);
      throw invalidResponse('a batch call was not answered with an array', facts.status);
    }
    const positions = new Map<JsonRpcId, number>(ids.map((id, position) => [id, position]));
    const outcomes = new Array<BatchOutcome<T> | undefined>(ids.length);
    const answered = new Set<number>();
    let unattributedError: JsonRpcErrorObject | undefined;
    let strays = 0;
    const fail = (error: XError): BatchOutcome<T> => ({ ok: false, error, latencyMs });
    for (const element of json) {
      const parsed = parseResponse(element);
      const position = parsed.id === null || parsed.id === undefined ? undefined : positions.get(parsed.id);
      if (position === undefined) {
        if (parsed.kind === 'error' && (parsed.id === null || parsed.id === undefined)) unattributedError ??= parsed.error;
        else strays += 1;
        continue;
      }
      const id = ids[position] as JsonRpcId;
      if (answered.has(position)) {
        outcomes[position] = fail(idMismatch(`answered the request with id ${describeId(id)} more than once`, { expectedId: id, receivedId: receivedId(id) }));
        continue;
      }
      answered.add(position);
      if (parsed.kind === 'result') outcomes[position] = { ok: true, value: parsed.value as T, latencyMs };
      else if (parsed.kind === 'error') outcomes[position] = fail(rpcFailure(parsed.error, facts, env));
      else outcomes[position] = fail(invalidResponse(parsed.reason, facts.status));
    }
    return ids.map((id, position) => {
      const outcome = outcomes[position];
      if (outcome !== undefined) return outcome;
      // An error with a null id is the server's answer to what it could not identify; it is the
      // best explanation for the requests left unanswered.
      if (unattributedError !== undefined) return fail(rpcFailure(unattributedError, facts, env));
      return fail(
        httpError('HTTP_RPC_MISSING_RESPONSE', 'protocol', `${label} sent no response for the batch request with id ${describeId(id)}`, {
          endpoint: label,
          expectedId: id,
          unmatchedResponses: strays,
        }),
      );
    });
  };

  const callWithLatency = async <T>(method: string, params?: JsonRpcParams, callOptions?: SingleCallOptions): Promise<TimedResult<T>> => {
    checkRequest(method, params, label);
    const settings = callSettings(callOptions);
    const id = callOptions?.id ?? nextId();
    checkId(id, label);
    const payload = serialise(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }, method);
    const exchanged = await exchange(payload, settings);
    return { value: interpretSingle(exchanged.json, id, exchanged.facts) as T, latencyMs: exchanged.latencyMs };
  };

  const batch = async <T>(input: readonly BatchRequest[], callOptions?: CallOptions): Promise<BatchOutcome<T>[]> => {
    if (!Array.isArray(input) || input.length === 0) throw invalidRequest('A batch needs a non-empty array of requests', { endpoint: label });
    const requests: readonly BatchRequest[] = input;
    const settings = callSettings(callOptions);
    const chosen = new Set<JsonRpcId>();
    for (const request of requests) {
      if (!isPlainObject(request)) throw invalidRequest('Every batch item must be an object', { endpoint: label });
      checkRequest(request.method, request.params, label);
      if (request.id === undefined) continue;
      checkId(request.id, label);
      if (chosen.has(request.id)) throw invalidRequest(`The id ${describeId(request.id)} appears twice in the batch`, { endpoint: label });
      chosen.add(request.id);
    }
    const ids = requests.map((request) => {
      if (request.id !== undefined) return request.id;
      let id = nextId();
      while (chosen.has(id)) id = nextId();
      chosen.add(id);
      return id;
    });
    const payload = serialise(
      requests.map((request, position) =>
        request.params === undefined
          ? { jsonrpc: '2.0', id: ids[position], method: request.method }
          : { jsonrpc: '2.0', id: ids[position], method: request.method, params: request.params },
      ),
      undefined,
    );
    const exchanged = await exchange(payload, settings);
    return matchBatch<T>(exchanged.json, ids, exchanged);
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const reason = closedError();
      const attempts = [...running.values()];
      for (const controller of running.keys()) controller.abort(reason);
      await Promise.allSettled(attempts);
      // A drain is only an optimisation for later calls; there are none now.
      const drains = [...draining.values()];
      for (const wire of draining.keys()) wire.abort(reason);
      await Promise.allSettled(drains);
      await pool.destroy();
    })();
    return closing;
  };

  return {
    label,
    call: async <T>(method: string, params?: JsonRpcParams, callOptions?: SingleCallOptions): Promise<T> =>
      (await callWithLatency<T>(method, params, callOptions)).value,
    callWithLatency,
    batch,
    close,
  };
}
