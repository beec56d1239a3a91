import { XError, isXError, secretsOfUrl } from '@x/errors';
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
export function createUpstream(options: UpstreamOptions, budgetStore?: BudgetStore): SolanaRpc {
  try {
    return createSolanaMultiRpc({
      ...options.client,
      ...(budgetStore === undefined ? {} : { pool: { ...options.client?.pool, budgetStore } }),
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
