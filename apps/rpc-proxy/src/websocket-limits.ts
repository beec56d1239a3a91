import type { ConfigIssue } from './config.js';

/** The WebSocket side's numeric options, one definition for `createProxyServer`, the configuration file and the CLI. */
export interface ProxyWebSocketLimits {
  /** Most live subscriptions one client connection may hold; more get JSON-RPC -32005. Default 100. */
  readonly maxSubscriptionsPerConnection?: number;
  /** Largest client message in bytes; a larger one closes the connection with code 1009. Default 65 536. */
  readonly maxMessageBytes?: number;
  /** Most client connections at once; more are refused with HTTP 503. Default 1 000. */
  readonly maxConnections?: number;
  /** Most bytes waiting to be sent to one client; a client that falls further behind is disconnected (1008). Default 4 MiB. */
  readonly maxBufferedBytes?: number;
  /** Most providers one merged upstream subscription is opened on (the pool's best for streams). Default: all. */
  readonly maxProviders?: number;
}

export type WebSocketLimitName = keyof ProxyWebSocketLimits;

export const DEFAULT_WEBSOCKET_LIMITS = Object.freeze({
  maxSubscriptionsPerConnection: 100,
  maxMessageBytes: 65_536,
  maxConnections: 1_000,
  maxBufferedBytes: 4 * 1_048_576,
});

/** Each limit's accepted range (integers) and the command-line flag that sets it. */
export const WEBSOCKET_LIMITS: Readonly<Record<WebSocketLimitName, { readonly min: number; readonly max: number; readonly flag: string }>> =
  Object.freeze({
    maxSubscriptionsPerConnection: { min: 1, max: 100_000, flag: '--ws-max-subscriptions' },
    maxMessageBytes: { min: 1_024, max: 64 * 1_048_576, flag: '--ws-max-message-bytes' },
    maxConnections: { min: 1, max: 1_000_000, flag: '--ws-max-connections' },
    maxBufferedBytes: { min: 1_024, max: 1_024 * 1_048_576, flag: '--ws-max-buffered-bytes' },
    maxProviders: { min: 1, max: 64, flag: '--ws-max-providers' },
  });

export const WEBSOCKET_LIMIT_NAMES = Object.keys(WEBSOCKET_LIMITS) as WebSocketLimitName[];

/** What is wrong with one limit's value, or undefined when it is fine. */
export function limitProblem(name: WebSocketLimitName, value: unknown): string | undefined {
  const { min, max } = WEBSOCKET_LIMITS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return `expected an integer from ${min} to ${max}`;
  }
  return undefined;
}

/** The problems of the limits given to `createProxyServer({ websocket })`, named `websocket.<limit>`. */
export function websocketLimitIssues(options: ProxyWebSocketLimits): ConfigIssue[] {
  return WEBSOCKET_LIMIT_NAMES.flatMap((name) => {
    const value = options[name];
    const problem = value === undefined ? undefined : limitProblem(name, value);
    return problem === undefined ? [] : [{ option: `websocket.${name}`, message: problem }];
  });
}
