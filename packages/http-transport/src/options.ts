import { checkTimerMs, configError, describeValue, isPlainObject, redactSecrets, redactUrl, secretsOfUrl } from '@x/errors';
import type { XError } from '@x/errors';
import { BIG_INTEGER_MODES, jsonParserFor } from '@x/json-rpc';
import type { ClassifyEnvironment } from './classify.js';
import { httpError } from './errors.js';
import { buildHeaders, secretsOfHeaders } from './headers.js';
import type { CallOptions, DrainOnAbortOptions, HttpTransportOptions } from './types.js';

/** JSON-RPC codes answered as `rate-limit` unless `rateLimitCodes` says otherwise. */
export const DEFAULT_RATE_LIMIT_CODES: readonly number[] = Object.freeze([-32005, -32429, 429]);
/** JSON-RPC codes answered as caller errors (`config`) unless `callerErrorCodes` says otherwise. */
export const DEFAULT_CALLER_ERROR_CODES: readonly number[] = Object.freeze([-32600, -32601, -32602]);

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const DEFAULT_CONNECTIONS = 16;
const DEFAULT_PIPELINING = 1;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
// Enough for any JSON-RPC answer a read would get; a bigger one costs more to drain than a new connection.
const DEFAULT_DRAIN_MAX_BYTES = 64 * 1024;
const DEFAULT_DRAIN_MAX_MS = 1_000;

/** An `HTTP_INVALID_OPTIONS` configuration error naming `option` (with the value received when given). */
export function invalidOptions(option: string, message: string, ...value: [unknown?]): XError {
  const error =
    value.length === 0
      ? configError('HTTP_INVALID_OPTIONS', option, message)
      : configError('HTTP_INVALID_OPTIONS', option, message, value[0]);
  // ConfigErrorContext is an interface (no index signature): widened to the plain XError thrown everywhere.
  return error as unknown as XError;
}

export function invalidRequest(message: string, context: { endpoint: string; method?: string; option?: string }, cause?: unknown): XError {
  return httpError('HTTP_INVALID_REQUEST', 'config', message, context, cause);
}

function checkCount(option: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw invalidOptions(option, `${option} must be an integer >= ${min}, got ${describeValue(value)}`, value);
  return value;
}

function checkDuration(option: string, value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : checkTimerMs('HTTP_INVALID_OPTIONS', option, value);
}

export interface DrainLimits {
  readonly maxBytes: number;
  readonly maxMs: number;
}

function checkDrain(value: DrainOnAbortOptions | false | undefined): DrainLimits | false {
  if (value === undefined) return { maxBytes: DEFAULT_DRAIN_MAX_BYTES, maxMs: DEFAULT_DRAIN_MAX_MS };
  if (value === false) return false;
  if (!isPlainObject(value)) throw invalidOptions('drainOnAbort', 'drainOnAbort must be false or an object { maxBytes?, maxMs? }', value);
  const { maxBytes, maxMs } = value as DrainOnAbortOptions;
  return {
    maxBytes: checkCount('drainOnAbort.maxBytes', maxBytes, DEFAULT_DRAIN_MAX_BYTES, 0),
    maxMs: checkDuration('drainOnAbort.maxMs', maxMs, DEFAULT_DRAIN_MAX_MS),
  };
}

function checkCodes(option: string, value: readonly number[] | undefined, fallback: readonly number[]): ReadonlySet<number> {
  const codes = value ?? fallback;
  if (!Array.isArray(codes) || !codes.every((code) => Number.isInteger(code)))
    throw invalidOptions(option, `${option} must be an array of integers`);
  return new Set(codes);
}

function parseUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(typeof input === 'string' ? input : input.href);
  } catch {
    throw invalidOptions('url', 'url is not a valid absolute URL', redactUrl(String(input)));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidOptions('url', 'url must use http: or https:', redactUrl(url));
  return url;
}

/** Everything a transport derives from its options, checked once at creation. */
export interface TransportSettings {
  readonly origin: string;
  /** Path and query of every request. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly label: string;
  /** Label, secrets and JSON-RPC code table: what classifying a failure needs. */
  readonly env: ClassifyEnvironment;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly connections: number;
  readonly pipelining: number;
  readonly keepAliveTimeoutMs: number;
  readonly drainLimits: DrainLimits | false;
  readonly parseJson: (text: string) => unknown;
}

/** Checks `createHttpTransport`'s options; throws `HTTP_INVALID_OPTIONS` (never quoting a header value or a URL secret). */
export function resolveSettings(options: HttpTransportOptions): TransportSettings {
  if (!isPlainObject(options)) throw invalidOptions('options', 'createHttpTransport needs an options object', options);
  const url = parseUrl(options.url);
  const secrets = [...secretsOfUrl(url), ...secretsOfHeaders(options.headers)];
  if (options.label !== undefined && (typeof options.label !== 'string' || options.label.trim() === '')) {
    throw invalidOptions('label', 'label must be a non-empty string');
  }
  const label = options.label === undefined ? redactUrl(url) : redactSecrets(options.label, secrets);
  const settings = {
    timeoutMs: checkDuration('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS),
    maxResponseBytes: checkCount('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 1),
    connections: checkCount('connections', options.connections, DEFAULT_CONNECTIONS, 1),
    pipelining: checkCount('pipelining', options.pipelining, DEFAULT_PIPELINING, 0),
    keepAliveTimeoutMs: checkDuration('keepAliveTimeoutMs', options.keepAliveTimeoutMs, DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
    drainLimits: checkDrain(options.drainOnAbort),
  };
  const env: ClassifyEnvironment = {
    label,
    secrets,
    rpcCodes: {
      rateLimit: checkCodes('rateLimitCodes', options.rateLimitCodes, DEFAULT_RATE_LIMIT_CODES),
      caller: checkCodes('callerErrorCodes', options.callerErrorCodes, DEFAULT_CALLER_ERROR_CODES),
    },
  };
  if (options.bigIntegers !== undefined && !BIG_INTEGER_MODES.includes(options.bigIntegers)) {
    throw invalidOptions('bigIntegers', `bigIntegers must be one of ${BIG_INTEGER_MODES.join(', ')}`, options.bigIntegers);
  }
  const parseJson = jsonParserFor(options.bigIntegers ?? 'round');
  const headers = buildHeaders(url, options.headers);
  return { origin: url.origin, path: `${url.pathname}${url.search}`, headers, label, env, parseJson, ...settings };
}

/** One call's limits: its options over the transport's defaults. */
export interface CallSettings {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal: AbortSignal | undefined;
}

/** Checks a call's options; a bad one is the call's mistake (`HTTP_INVALID_REQUEST`), not the transport's. */
export function callSettings(callOptions: CallOptions | undefined, defaults: TransportSettings): CallSettings {
  const endpoint = defaults.label;
  if (callOptions !== undefined && (typeof callOptions !== 'object' || callOptions === null))
    throw invalidRequest('Call options must be an object', { endpoint });
  const signal = callOptions?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw invalidRequest('signal must be an AbortSignal', { endpoint, option: 'signal' });
  try {
    return {
      timeoutMs: checkDuration('timeoutMs', callOptions?.timeoutMs, defaults.timeoutMs),
      maxBytes: checkCount('maxResponseBytes', callOptions?.maxResponseBytes, defaults.maxResponseBytes, 1),
      signal,
    };
  } catch (error) {
    const option = (error as XError<string, { option?: string }>).context.option;
    throw invalidRequest((error as Error).message, option === undefined ? { endpoint } : { endpoint, option });
  }
}
