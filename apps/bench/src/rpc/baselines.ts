/**
 * The libraries users would pick instead, set up as their documentation suggests, on the same simulated
 * endpoints as ours. Where a library default would make the comparison meaningless (a result cache that
 * answers repeated reads without any request, or request batching that adds a fixed wait) it is turned
 * off, and the settings string says so.
 */
import { address, createSolanaRpc } from '@solana/kit';
import { FallbackProvider, FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { createPublicClient, defineChain, fallback, http } from 'viem';
import type { PublicClient, Transport } from 'viem';
import { lamportsOfWei, rotate } from './contender.js';
import type { RpcContender } from './contender.js';

/** A single endpoint through @solana/kit's default HTTP transport (no retries, no timeout). */
export function kitSingleName(endpointId: string): string {
  return `@solana/kit, 1 endpoint (${endpointId})`;
}

export function kitSingleSettings(endpointId: string): string {
  return `createSolanaRpc(url) defaults: one endpoint (${endpointId}), no retry, no timeout, request coalescing within a tick (every worker reads its own account, so nothing coalesces)`;
}

export function kitSingle(url: string, endpointId: string): RpcContender {
  const rpc = createSolanaRpc(url);
  return {
    name: kitSingleName(endpointId),
    kind: 'baseline',
    settings: kitSingleSettings(endpointId),
    async getBalance(target) {
      const { value } = await rpc.getBalance(address(target.solana)).send();
      return value;
    },
    close: () => Promise.resolve(),
  };
}

export const KIT_ROTATING = {
  name: '@solana/kit, 1 endpoint (rotated)',
  settings: 'createSolanaRpc(url) defaults on one endpoint per call, the endpoint rotating call by call',
} as const;

/**
 * @solana/kit on one endpoint at a time, the endpoint changing call by call: what a user who picked one
 * provider gets, averaged over which provider that happened to be.
 */
export function kitRotating(endpoints: ReadonlyArray<{ id: string; url: string }>): RpcContender {
  const rpcs = endpoints.map((e) => createSolanaRpc(e.url));
  let calls = 0;
  return {
    name: KIT_ROTATING.name,
    kind: 'baseline',
    settings: KIT_ROTATING.settings,
    async getBalance(target) {
      const { value } = await rpcs[calls++ % rpcs.length]!.getBalance(address(target.solana)).send();
      return value;
    },
    close: () => Promise.resolve(),
  };
}

function benchChain(evmChainId: number, url: string) {
  return defineChain({
    id: evmChainId,
    name: 'bench',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
}

/** Latency tuning of viem as its documentation allows: a short `http()` timeout, no retry per endpoint, and `fallback` ranking that re-ranks every second. */
const VIEM_TUNED = {
  httpTimeoutMs: 300,
  fallbackRetryCount: 1,
  fallbackRetryDelayMs: 50,
  rankIntervalMs: 1000,
  rankSampleCount: 5,
  rankTimeoutMs: 300,
} as const;

/** Latency tuning of ethers as its documentation allows: a small `stallTimeout` (the next provider joins after it) and a 2 s request timeout. */
const ETHERS_TUNED = { stallTimeoutMs: 60, requestTimeoutMs: 2000 } as const;

export type Variant = 'defaults' | 'tuned';

/** What the EVM contenders return: wei as it is (a real EVM node), or lamports (the Solana simulator's accounts read through their EVM address). */
export type BalanceUnit = 'wei' | 'lamports';

export interface ViemOptions {
  readonly urls: readonly string[];
  readonly evmChainId: number;
  readonly variant: Variant;
  readonly unit: BalanceUnit;
  /**
   * Whether the scenario is still running: the ranking loop of viem's `fallback` cannot be stopped, so its
   * pings stop being sent (they reject without a request) once the scenario ends, lest they hit a later
   * scenario's endpoints on reused ports.
   */
  readonly active: () => boolean;
}

export function viemName(variant: Variant): string {
  return variant === 'defaults' ? 'viem fallback (defaults)' : 'viem fallback (tuned)';
}

export function viemSettings(variant: Variant): string {
  if (variant === 'defaults') {
    return (
      'viem defaults: fallback(transports) with http(url) each: http timeout 10 s, no retry per endpoint inside fallback, fallback retryCount 3 ' +
      'with 150 ms × 2ⁿ backoff once every endpoint failed, no rank (first endpoint first; the endpoint order is rotated call by call)'
    );
  }
  const t = VIEM_TUNED;
  return (
    `viem tuned for latency: http(url, { timeout: ${t.httpTimeoutMs}, retryCount: 0 }) each; fallback({ retryCount: ${t.fallbackRetryCount}, retryDelay: ${t.fallbackRetryDelayMs}, ` +
    `rank: { interval: ${t.rankIntervalMs}, sampleCount: ${t.rankSampleCount}, timeout: ${t.rankTimeoutMs}, ping: eth_blockNumber } }), rank weights latency 0.3 / stability 0.7 (defaults)`
  );
}

/**
 * viem `fallback` over one `http()` transport per endpoint, through a public client with a custom chain.
 * At its defaults (no rank) the endpoint order decides who gets every call, so the order is rotated call
 * by call (one client per rotation, used in turn) to give no endpoint a fixed place. Tuned, viem reorders
 * by its own pings (`eth_blockNumber`: the Solana simulator does not serve the default `net_listening`);
 * those pings are counted as this contender's load.
 */
export function viemFallback(options: ViemOptions): RpcContender {
  const chain = benchChain(options.evmChainId, options.urls[0]!);
  const pings = new Map<string, number>();
  const tuned = options.variant === 'tuned';
  const makeClient = (urls: readonly string[]): PublicClient => {
    const transports = urls.map((url) => (tuned ? http(url, { timeout: VIEM_TUNED.httpTimeoutMs, retryCount: 0 }) : http(url)));
    if (!tuned) return createPublicClient({ chain, transport: fallback(transports) });
    const rank = {
      interval: VIEM_TUNED.rankIntervalMs,
      sampleCount: VIEM_TUNED.rankSampleCount,
      timeout: VIEM_TUNED.rankTimeoutMs,
      ping: ({ transport }: { transport: ReturnType<Transport> }) => {
        const url = (transport.value as { url?: string } | undefined)?.url ?? '';
        if (!options.active()) return Promise.reject(new Error('scenario over'));
        pings.set(url, (pings.get(url) ?? 0) + 1);
        return transport.request({ method: 'eth_blockNumber' });
      },
    };
    return createPublicClient({
      chain,
      transport: fallback(transports, { rank, retryCount: VIEM_TUNED.fallbackRetryCount, retryDelay: VIEM_TUNED.fallbackRetryDelayMs }),
    });
  };
  const clients = tuned ? [makeClient(options.urls)] : options.urls.map((_, i) => makeClient(rotate(options.urls, i)));
  let calls = 0;
  return {
    name: viemName(options.variant),
    kind: 'baseline',
    settings: viemSettings(options.variant),
    async getBalance(target) {
      const client = clients[calls++ % clients.length]!;
      const wei = await client.getBalance({ address: target.evm });
      return options.unit === 'wei' ? wei : lamportsOfWei(wei);
    },
    backgroundRequests: () => pings,
    close: () => Promise.resolve(),
  };
}

export interface EthersOptions {
  readonly urls: readonly string[];
  readonly evmChainId: number;
  readonly variant: Variant;
  /** Omitted: ethers' default, half the total weight rounded up. */
  readonly quorum?: number;
  readonly unit: BalanceUnit;
}

/** ethers' default quorum: half the providers' total weight (1 each), rounded up. */
export function ethersDefaultQuorum(endpoints: number): number {
  return Math.ceil(endpoints / 2);
}

export function ethersName(variant: Variant, quorum: number): string {
  return `ethers FallbackProvider, quorum ${quorum} (${variant})`;
}

const ETHERS_FAIRNESS = 'staticNetwork, batchMaxCount 1 and cacheTimeout -1 set in both variants for a fair comparison';

export function ethersSettings(variant: Variant, quorum: number, endpoints: number): string {
  const quorumText =
    quorum === ethersDefaultQuorum(endpoints)
      ? `quorum ${quorum} (the default for ${endpoints} providers of weight 1)`
      : `quorum ${quorum}`;
  if (variant === 'defaults') {
    return (
      `ethers defaults: stallTimeout 400 ms (then the next provider joins), priority 1 / weight 1 each (random order), ${quorumText}; ` +
      `HTTP 429 retried up to 12 times, request timeout 300 s; ${ETHERS_FAIRNESS}`
    );
  }
  return (
    `ethers tuned for latency: stallTimeout ${ETHERS_TUNED.stallTimeoutMs} ms, priority 1 / weight 1 each, ${quorumText}, ` +
    `FetchRequest timeout ${ETHERS_TUNED.requestTimeoutMs} ms; ${ETHERS_FAIRNESS}`
  );
}

/**
 * ethers v6 `FallbackProvider` over one `JsonRpcProvider` per endpoint. `staticNetwork` so that nothing
 * probes the chain id per call; batching off (`batchMaxCount: 1`, otherwise each request waits 10 ms to
 * gather a batch); the 250 ms result cache off (`cacheTimeout: -1`) so every call reaches the network.
 */
export function ethersFallback(options: EthersOptions): RpcContender {
  const network = new Network('bench', options.evmChainId);
  const tuned = options.variant === 'tuned';
  const quorum = options.quorum ?? ethersDefaultQuorum(options.urls.length);
  const providers = options.urls.map((url) => {
    const request = new FetchRequest(url);
    if (tuned) request.timeout = ETHERS_TUNED.requestTimeoutMs;
    return new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1 });
  });
  const provider = new FallbackProvider(
    tuned ? providers.map((p) => ({ provider: p, stallTimeout: ETHERS_TUNED.stallTimeoutMs })) : providers,
    network,
    { ...(options.quorum === undefined ? {} : { quorum: options.quorum }), cacheTimeout: -1 },
  );
  return {
    name: ethersName(options.variant, quorum),
    kind: 'baseline',
    settings: ethersSettings(options.variant, quorum, options.urls.length),
    async getBalance(target) {
      const wei = await provider.getBalance(target.evm);
      return options.unit === 'wei' ? wei : lamportsOfWei(wei);
    },
    close: async () => {
      await provider.destroy();
    },
  };
}
