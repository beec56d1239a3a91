/**
 * viem `fallback` and ethers `FallbackProvider` on rate-limited endpoints, at their defaults and tuned for
 * throughput as their own APIs allow, reading `eth_getBalance` in wei from a real node.
 */
import { FallbackProvider, FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { createPublicClient, defineChain, fallback, http } from 'viem';
import type { PublicClient } from 'viem';
import { rotate } from './contender.js';
import type { RpcContender } from './contender.js';
import type { ContenderSettings } from '../types.js';

type ThroughputVariant = 'defaults' | 'tuned';

const VIEM_NAMES: Record<ThroughputVariant, string> = {
  defaults: 'viem fallback (defaults)',
  tuned: 'viem fallback (tuned: round-robin)',
};

const VIEM_SETTINGS: Record<ThroughputVariant, string> = {
  defaults:
    'viem defaults: one client, fallback([http(a), http(b), http(c), http(d)]): every call starts at the first endpoint and moves on after an ' +
    'error (HTTP 429 included), http timeout 10 s, no retry per endpoint inside fallback, fallback retryCount 3 with 150 ms × 2ⁿ backoff ' +
    'once every endpoint failed',
  tuned:
    'viem tuned for throughput: one fallback client per rotation of the endpoint order, used call by call in turn (round-robin; viem has no load ' +
    'balancing of its own), otherwise defaults (fallback retryCount 3, http timeout 10 s)',
};

/** ethers' `FetchRequest` throttle for the tuned variant: no retry on the same provider after a 429, so the fallback moves on at once. */
const ETHERS_TUNED_MAX_ATTEMPTS = 1;

const ETHERS_NAMES: Record<ThroughputVariant, string> = {
  defaults: 'ethers FallbackProvider, quorum 2 (defaults)',
  tuned: 'ethers FallbackProvider, quorum 1 (tuned)',
};

const ETHERS_FAIRNESS = 'staticNetwork, batchMaxCount 1 and cacheTimeout -1 in both variants';

const ETHERS_SETTINGS: Record<ThroughputVariant, string> = {
  defaults:
    'ethers defaults: quorum 2 (half of 4 providers of weight 1), stallTimeout 400 ms, priority 1 / weight 1 each (random order); ' +
    `a 429 is tried again on the same provider, up to 12 attempts in all (ethers reads Retry-After as milliseconds); ${ETHERS_FAIRNESS}`,
  tuned:
    `ethers tuned for throughput: quorum 1 (one provider per call), FetchRequest.setThrottleParams({ maxAttempts: ${ETHERS_TUNED_MAX_ATTEMPTS} }) ` +
    `(a 429 fails that provider at once and the next one joins), stallTimeout 400 ms; ${ETHERS_FAIRNESS}`,
};

export function throughputLibrarySettings(): ContenderSettings[] {
  return (['defaults', 'tuned'] as const).flatMap((variant) => [
    { name: VIEM_NAMES[variant], settings: VIEM_SETTINGS[variant] },
    { name: ETHERS_NAMES[variant], settings: ETHERS_SETTINGS[variant] },
  ]);
}

function viemClients(urls: readonly string[], evmChainId: number, variant: ThroughputVariant): PublicClient[] {
  const chain = defineChain({
    id: evmChainId,
    name: 'bench',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [urls[0]!] } },
  });
  const client = (order: readonly string[]): PublicClient =>
    createPublicClient({ chain, transport: fallback(order.map((url) => http(url))) });
  return variant === 'defaults' ? [client(urls)] : urls.map((_, i) => client(rotate(urls, i)));
}

function viemThroughput(urls: readonly string[], evmChainId: number, variant: ThroughputVariant): RpcContender {
  const clients = viemClients(urls, evmChainId, variant);
  let calls = 0;
  return {
    name: VIEM_NAMES[variant],
    kind: 'baseline',
    settings: VIEM_SETTINGS[variant],
    getBalance: (target) => clients[calls++ % clients.length]!.getBalance({ address: target.evm }),
    close: () => Promise.resolve(),
  };
}

function ethersThroughput(urls: readonly string[], evmChainId: number, variant: ThroughputVariant): RpcContender {
  const network = new Network('bench', evmChainId);
  const providers = urls.map((url) => {
    const request = new FetchRequest(url);
    if (variant === 'tuned') request.setThrottleParams({ maxAttempts: ETHERS_TUNED_MAX_ATTEMPTS });
    return new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1 });
  });
  const provider = new FallbackProvider(providers, network, { ...(variant === 'tuned' ? { quorum: 1 } : {}), cacheTimeout: -1 });
  return {
    name: ETHERS_NAMES[variant],
    kind: 'baseline',
    settings: ETHERS_SETTINGS[variant],
    getBalance: (target) => provider.getBalance(target.evm),
    close: async () => {
      await provider.destroy();
    },
  };
}

/** viem defaults and tuned, ethers defaults and tuned, on the same endpoints. */
export function throughputLibraryContenders(urls: readonly string[], evmChainId: number): RpcContender[] {
  return (['defaults', 'tuned'] as const).flatMap((variant) => [
    viemThroughput(urls, evmChainId, variant),
    ethersThroughput(urls, evmChainId, variant),
  ]);
}
