import { checkTimerMs, configError, isAbortSignal, isPlainObject, redactSecrets, redactUrl, secretsOfUrl } from '@x/errors';
import type { XError } from '@x/errors';
import { BIG_INTEGER_MODES } from '@x/json-rpc';
import type { BigIntegerMode, JsonRpcId } from '@x/json-rpc';

/** How a dropped connection is re-established. */
export interface ReconnectOptions {
  /** Delay before the first reconnect attempt (before jitter). Default 250. */
  readonly initialDelayMs?: number;
  /** Largest delay between attempts (before jitter). Default 30 000. */
  readonly maxDelayMs?: number;
  /** Growth of the delay per failed attempt. Default 2. */
  readonly multiplier?: number;
  /** Fraction of each delay that is random, in [0, 1]: the delay is `d × (1 − jitter + jitter × random())`. Default 0.5. */
  readonly jitter?: number;
  /** Consecutive failed attempts after which the transport gives up (`WS_RECONNECT_GAVE_UP`). Default: never gives up. */
  readonly maxAttempts?: number;
  /** A connection that stayed open this long restarts the backoff at `initialDelayMs` when it drops. Default 10 000. */
  readonly resetAfterMs?: number;
}

/** What the transport reports about its connection (through `onEvent`). `connection` counts connections opened, from 1. */
export type WsTransportEvent =
  /** A connection opened; `reconnect` is true from the second one on, with the time spent without a connection. */
  | {
      readonly type: 'open';
      readonly connection: number;
      readonly reconnect: boolean;
      readonly connectMs: number;
      readonly downtimeMs?: number;
    }
  /** A connection ended (`code`, `reason` as the close frame said; 1006 with no frame); `error` says why when it was a failure. */
  | { readonly type: 'close'; readonly connection: number; readonly code: number; readonly reason: string; readonly error?: XError }
  /** A connect attempt failed or a connection dropped: the next attempt starts after `delayMs`. */
  | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly error: XError }
  /**
   * After a reconnect, the live subscriptions were issued again: `resubscribed` succeeded, `failed` ended (each
   * subscription's `onEnd` says why). Notifications sent by the server while disconnected are lost: a layer
   * above backfills from `downtimeMs` or from the gap it sees.
   */
  | {
      readonly type: 'resubscribed';
      readonly connection: number;
      readonly resubscribed: number;
      readonly failed: number;
      readonly downtimeMs: number;
    }
  /** A message that could not be used (not JSON, not JSON-RPC, a response to no request): dropped, connection kept. */
  | { readonly type: 'ignored'; readonly connection: number; readonly error: XError }
  /** The transport gave up reconnecting (`maxAttempts`); every subscription ended and calls reject. */
  | { readonly type: 'gave-up'; readonly error: XError };

export interface WsTransportOptions {
  /** The endpoint, `ws:` or `wss:`. API keys in its path or query never reach an error, event or label. */
  readonly url: string | URL;
  /** Name used in errors and events; secrets of `url` found in it are replaced by `***`. Default: `redactUrl(url)`. */
  readonly label?: string;
  /** Extra handshake headers (e.g. an `authorization` token). Never copied into errors. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Longest wait for one connection attempt (TCP, TLS and the HTTP upgrade). Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Longest wait for the answer to one request (`call`, a subscribe, an unsubscribe), from when it is sent. Default 10 000. */
  readonly timeoutMs?: number;
  /** Interval of keep-alive pings on an open connection; `false` sends none. Default 15 000. */
  readonly pingIntervalMs?: number | false;
  /** Longest wait for the pong; past it the connection is dropped (`WS_PONG_TIMEOUT`) and reconnected. Default 10 000. */
  readonly pongTimeoutMs?: number;
  /** Largest incoming message in bytes; a larger one closes the connection with 1009 (`WS_MESSAGE_TOO_LARGE`). Default 16 MiB. */
  readonly maxPayload?: number;
  /** Most bytes waiting to be sent (queued while connecting plus the socket's own buffer); beyond it a send fails with `WS_SEND_BUFFER_FULL`. Default 4 MiB. */
  readonly maxBufferedBytes?: number;
  /** Reconnect policy, or `false` to end everything at the first disconnect. Default: the {@link ReconnectOptions} defaults. */
  readonly reconnect?: ReconnectOptions | false;
  /** How integers beyond ±(2^53 − 1) in messages are read. Default `'round'`. */
  readonly bigIntegers?: BigIntegerMode;
  /** Aborting closes the transport, as `close()` does. */
  readonly signal?: AbortSignal;
  /** Receives connection events; must not throw (a throw is ignored). */
  readonly onEvent?: (event: WsTransportEvent) => void;
  /** Source of randomness for the reconnect jitter, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

export interface ResolvedReconnect {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly jitter: number;
  readonly maxAttempts: number;
  readonly resetAfterMs: number;
}

export interface ResolvedOptions {
  readonly url: URL;
  readonly label: string;
  readonly secrets: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly pingIntervalMs: number | false;
  readonly pongTimeoutMs: number;
  readonly maxPayload: number;
  readonly maxBufferedBytes: number;
  readonly reconnect: ResolvedReconnect | false;
  readonly bigIntegers: BigIntegerMode;
  readonly signal: AbortSignal | undefined;
  readonly onEvent: (event: WsTransportEvent) => void;
  readonly random: () => number;
}

const CODE = 'WS_INVALID_OPTIONS';

function timer(option: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : checkTimerMs(CODE, option, value);
}

function count(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw configError(CODE, option, `${option} must be an integer >= ${min}`, value);
  }
  return value;
}

function ratio(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw configError(CODE, option, `${option} must be a number in [${min}, ${max}]`, value);
  }
  return value;
}

function parseUrl(value: unknown): URL {
  let url: URL;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(String(value));
  } catch {
    // The URL may hold a key: it is never echoed.
    throw configError(CODE, 'url', 'url must be an absolute ws: or wss: URL');
  }
  if (typeof value !== 'string' && !(value instanceof URL)) throw configError(CODE, 'url', 'url must be a string or a URL', value);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw configError(CODE, 'url', `url must use ws: or wss:, got ${url.protocol}`);
  return url;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
// The handshake's own headers belong to ws.
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
]);

function checkHeaders(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw configError(CODE, 'headers', 'headers must be an object of strings', value);
  for (const [name, header] of Object.entries(value)) {
    if (!HEADER_NAME.test(name) || RESERVED_HEADERS.has(name.toLowerCase())) {
      throw configError(CODE, 'headers', `headers: ${JSON.stringify(name.slice(0, 64))} is not a header name the transport can send`);
    }
    // Values may be tokens and are never echoed.
    if (typeof header !== 'string' || /[\r\n\0]/.test(header))
      throw configError(CODE, `headers.${name}`, `headers: the value of ${name} must be a string without CR, LF or NUL`);
  }
  return { ...(value as Record<string, string>) };
}

function checkReconnect(value: unknown): ResolvedReconnect | false {
  if (value === false) return false;
  if (value !== undefined && !isPlainObject(value)) throw configError(CODE, 'reconnect', 'reconnect must be false or an object', value);
  const given = (value ?? {}) as ReconnectOptions;
  const initialDelayMs = timer('reconnect.initialDelayMs', given.initialDelayMs, 250);
  const maxDelayMs = timer('reconnect.maxDelayMs', given.maxDelayMs, Math.max(30_000, initialDelayMs));
  if (maxDelayMs < initialDelayMs)
    throw configError(CODE, 'reconnect.maxDelayMs', 'reconnect.maxDelayMs must be >= reconnect.initialDelayMs', maxDelayMs);
  return {
    initialDelayMs,
    maxDelayMs,
    multiplier: ratio('reconnect.multiplier', given.multiplier, 2, 1, 1_000),
    jitter: ratio('reconnect.jitter', given.jitter, 0.5, 0, 1),
    maxAttempts: given.maxAttempts === undefined ? Number.POSITIVE_INFINITY : count('reconnect.maxAttempts', given.maxAttempts, 0, 1),
    resetAfterMs: timer('reconnect.resetAfterMs', given.resetAfterMs, 10_000),
  };
}

function swallow(listener: ((event: WsTransportEvent) => void) | undefined): (event: WsTransportEvent) => void {
  if (listener === undefined) return () => undefined;
  if (typeof listener !== 'function') throw configError(CODE, 'onEvent', 'onEvent must be a function', listener);
  return (event) => {
    try {
      listener(event);
    } catch {
      // A listener's failure is the listener's; the connection goes on.
    }
  };
}

export function resolveOptions(options: WsTransportOptions): ResolvedOptions {
  if (!isPlainObject(options)) throw configError(CODE, 'options', 'createWsTransport needs an options object { url, ... }', options);
  const url = parseUrl(options.url);
  if (options.label !== undefined && (typeof options.label !== 'string' || options.label === '')) {
    throw configError(CODE, 'label', 'label must be a non-empty string', options.label);
  }
  if (options.signal !== undefined && !isAbortSignal(options.signal))
    throw configError(CODE, 'signal', 'signal must be an AbortSignal', options.signal);
  if (options.bigIntegers !== undefined && !BIG_INTEGER_MODES.includes(options.bigIntegers)) {
    throw configError(CODE, 'bigIntegers', `bigIntegers must be one of ${BIG_INTEGER_MODES.join(', ')}`, options.bigIntegers);
  }
  if (options.random !== undefined && typeof options.random !== 'function')
    throw configError(CODE, 'random', 'random must be a function', options.random);
  const pingIntervalMs = options.pingIntervalMs === false ? false : timer('pingIntervalMs', options.pingIntervalMs, 15_000);
  return {
    url,
    // A label that quotes the URL's secrets gets them replaced too.
    label: options.label === undefined ? redactUrl(url) : redactSecrets(options.label, secretsOfUrl(url)),
    secrets: secretsOfUrl(url),
    headers: checkHeaders(options.headers),
    connectTimeoutMs: timer('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    timeoutMs: timer('timeoutMs', options.timeoutMs, 10_000),
    pingIntervalMs,
    pongTimeoutMs: timer('pongTimeoutMs', options.pongTimeoutMs, 10_000),
    maxPayload: count('maxPayload', options.maxPayload, 16 * 1024 * 1024, 1),
    maxBufferedBytes: count('maxBufferedBytes', options.maxBufferedBytes, 4 * 1024 * 1024, 1),
    reconnect: checkReconnect(options.reconnect),
    bigIntegers: options.bigIntegers ?? 'round',
    signal: options.signal,
    onEvent: swallow(options.onEvent),
    random: options.random ?? Math.random,
  };
}

/** The unsubscribe method of a subscribe method: `logsSubscribe` → `logsUnsubscribe`, `eth_subscribe` → `eth_unsubscribe`. */
export function unsubscribeMethodOf(method: string): string | undefined {
  if (method.endsWith('Subscribe')) return `${method.slice(0, -'Subscribe'.length)}Unsubscribe`;
  if (method.endsWith('_subscribe')) return `${method.slice(0, -'_subscribe'.length)}_unsubscribe`;
  return undefined;
}

/** A subscription id as servers send it: Solana sends integers, Ethereum nodes hex strings. */
export function isSubscriptionId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}
