import { ethersDefaultQuorum, ethersFallback, ethersName, ethersSettings, viemFallback, viemName, viemSettings } from './baselines.js';
import type { BalanceUnit } from './baselines.js';
import type { RpcContender } from './contender.js';
import type { ContenderSettings } from '../types.js';

/**
 * viem `fallback` and ethers `FallbackProvider`, each at its defaults and tuned for latency as its own
 * documentation allows: viem defaults / tuned, ethers defaults (quorum = half the providers) / tuned with
 * quorum 1 / tuned with quorum 2. `active` tells viem's rank loop when the scenario is over.
 */
export function libraryContenders(options: {
  readonly urls: readonly string[];
  readonly evmChainId: number;
  readonly unit: BalanceUnit;
  readonly active: () => boolean;
}): RpcContender[] {
  const { urls, evmChainId, unit, active } = options;
  return [
    viemFallback({ urls, evmChainId, variant: 'defaults', unit, active }),
    viemFallback({ urls, evmChainId, variant: 'tuned', unit, active }),
    ethersFallback({ urls, evmChainId, variant: 'defaults', unit }),
    ethersFallback({ urls, evmChainId, variant: 'tuned', quorum: 1, unit }),
    ethersFallback({ urls, evmChainId, variant: 'tuned', quorum: 2, unit }),
  ];
}

/** The names and settings of `libraryContenders` over `endpoints` endpoints, without making any. */
export function libraryContenderSettings(endpoints: number): ContenderSettings[] {
  const defaultQuorum = ethersDefaultQuorum(endpoints);
  return [
    { name: viemName('defaults'), settings: viemSettings('defaults') },
    { name: viemName('tuned'), settings: viemSettings('tuned') },
    { name: ethersName('defaults', defaultQuorum), settings: ethersSettings('defaults', defaultQuorum, endpoints) },
    { name: ethersName('tuned', 1), settings: ethersSettings('tuned', 1, endpoints) },
    { name: ethersName('tuned', 2), settings: ethersSettings('tuned', 2, endpoints) },
  ];
}
