import { rpcProfiles, startRpcCluster } from '@x/testkit';
import type { RpcCluster } from '@x/testkit';
import type { SolanaEndpointConfig } from '@x/solana-rpc';

/** The simulated providers `--local` starts: a fast one, a heavy-tailed one, a flaky one and a lagging one. */
const LOCAL_ENDPOINTS = Object.freeze([
  { id: 'fast', behavior: rpcProfiles.fast },
  { id: 'heavy-tail', behavior: rpcProfiles.heavyTail },
  { id: 'flaky', behavior: rpcProfiles.flaky },
  { id: 'lagging', behavior: rpcProfiles.lagging },
]);

export interface LocalUpstreams {
  readonly cluster: RpcCluster;
  readonly endpoints: readonly SolanaEndpointConfig[];
}

/**
 * Starts the `@x/testkit` Solana cluster on 127.0.0.1 and describes its endpoints for the proxy. With `limit`, every
 * provider allows `limit` requests a second in bursts of `limit` (HTTP 429 with `Retry-After` beyond) and each endpoint
 * is declared with that budget.
 */
export async function startLocalUpstreams(seed: number | string = 1, limit?: number): Promise<LocalUpstreams> {
  const rateLimit = limit === undefined ? undefined : { requestsPerSecond: limit, burst: limit };
  const cluster = await startRpcCluster({
    seed,
    endpoints: LOCAL_ENDPOINTS.map((endpoint) =>
      rateLimit === undefined ? endpoint : { ...endpoint, behavior: { ...endpoint.behavior, rateLimit } },
    ),
  });
  return {
    cluster,
    endpoints: cluster.endpoints.map((endpoint) => ({
      id: endpoint.id,
      url: endpoint.url,
      ...(rateLimit === undefined ? {} : { budget: rateLimit }),
    })),
  };
}
