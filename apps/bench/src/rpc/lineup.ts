import { ethersFallback, viemFallback } from './baselines.js';
import type { RpcContender } from './contender.js';
import { ours } from './ours.js';

/**
 * The contenders every RPC scenario compares after its single-endpoint baseline: viem `fallback`
 * (without and with `rank`), ethers `FallbackProvider` (quorum 1 and 2), and ours (race, hedge, dual,
 * consensus), all on the same endpoints. `active` tells viem's rank loop when the scenario is over.
 */
export function multiEndpointContenders(options: {
  readonly urls: readonly string[];
  readonly evmChainId: number;
  readonly endpoints: Parameters<typeof ours>[1];
  readonly active: () => boolean;
}): RpcContender[] {
  const { urls, evmChainId, endpoints, active } = options;
  return [
    viemFallback({ urls, evmChainId, rank: false, active }),
    viemFallback({ urls, evmChainId, rank: true, active }),
    ethersFallback({ urls, evmChainId, quorum: 1 }),
    ethersFallback({ urls, evmChainId, quorum: 2 }),
    ours('race', endpoints),
    ours('hedge', endpoints),
    ours('dual', endpoints),
    ours('consensus', endpoints),
  ];
}
