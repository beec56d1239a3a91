import { XError, isXError, secretsOfUrl } from '@x/errors';
import { createHttpTransport } from '@x/http-transport';
import type { HttpTransport, HttpTransportOptions } from '@x/http-transport';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaEndpointConfig, SolanaRpc, SolanaRpcOptions } from '@x/solana-rpc';
import type { BudgetStore } from '@x/pool';
import type { ConfigIssue, MethodOverride } from './config.js';

export interface UpstreamOptions {
  readonly endpoints: readonly SolanaEndpointConfig[];
  readonly methods?: Readonly<Record<string, MethodOverride>>;
  readonly defaults?: MethodOverride;
  readonly client?: Pick<SolanaRpcOptions, 'maxSlotLag' | 'pool' | 'http'>;
}

/** What went upstream over HTTP, per endpoint (in configuration order): requests, and the calls they carried. */
export interface UpstreamTraffic {
  readonly requests: number[];
  readonly calls: number[];
}

/**
 * `createHttpTransport`, counting every request it sends and the calls in it (a batch of n: one request,
 * n calls) into slot `index` of `traffic`: the transports are made in configuration order.
 */
function countingTransports(traffic: UpstreamTraffic): (options: HttpTransportOptions) => HttpTransport {
  let made = 0;
  return (options) => {
    const index = made;
    made += 1;
    traffic.requests[index] = 0;
    traffic.calls[index] = 0;
    const count = (calls: number): void => {
      traffic.requests[index] = (traffic.requests[index] ?? 0) + 1;
      traffic.calls[index] = (traffic.calls[index] ?? 0) + calls;
    };
    const transport = createHttpTransport(options);
    return {
      label: transport.label,
      call: (method, params, callOptions) => {
        count(1);
        return transport.call(method, params, callOptions);
      },
      callWithLatency: (method, params, callOptions) => {
        count(1);
        return transport.callWithLatency(method, params, callOptions);
      },
      batch: (requests, callOptions) => {
        count(Array.isArray(requests) ? requests.length : 0);
        return transport.batch(requests, callOptions);
      },
      close: () => transport.close(),
    };
  };
}

/** The configuration error of the proxy for an option only the client underneath could judge. */
function upstreamConfigError(option: string, error: Error): XError {
  const issue: ConfigIssue = { option, message: error.message };
  return new XError({
    code: 'PROXY_INVALID_CONFIG',
    category: 'config',
    message: `Invalid configuration: ${error.message}`,
    context: { option: issue.option, issues: [issue] },
    cause: error,
  });
}

/**
 * The `@x/solana-rpc` client calls go through. What only the client can judge (a write sent with a
 * strategy that would repeat it…) is still a configuration option to the user: `PROXY_INVALID_CONFIG`
 * naming it (`context.option`), with the client's own sentence as the message.
 */
export function createUpstream(
  options: UpstreamOptions,
  traffic: UpstreamTraffic = { requests: [], calls: [] },
  budgetStore?: BudgetStore,
): SolanaRpc {
  try {
    return createSolanaMultiRpc({
      ...options.client,
      ...(budgetStore === undefined ? {} : { pool: { ...options.client?.pool, budgetStore } }),
      createTransport: countingTransports(traffic),
      endpoints: options.endpoints,
      ...(options.methods === undefined ? {} : { methods: options.methods }),
      ...(options.defaults === undefined ? {} : { defaults: options.defaults }),
    });
  } catch (error) {
    if (isXError(error, 'SOLANA_INVALID_OPTIONS')) throw upstreamConfigError(error.context.option, error);
    // A lower layer's configuration error (a transport or pool option), which names its option too.
    if (isXError(error) && error.category === 'config' && typeof error.context.option === 'string')
      throw upstreamConfigError(error.context.option, error);
    throw error;
  }
}

/** What must never be echoed: every endpoint URL's secrets, header values (credentials), the bearer token. */
export function secretsOf(endpoints: readonly SolanaEndpointConfig[], token: string | undefined): string[] {
  return [
    // Short header values (`1`, `true`) would only mangle messages.
    ...endpoints.flatMap((endpoint) => [
      ...(endpoint.url === undefined ? [] : secretsOfUrl(endpoint.url)),
      ...Object.values(endpoint.headers ?? {}).filter((value) => value.length >= 8),
    ]),
    ...(token === undefined ? [] : [token]),
  ];
}
