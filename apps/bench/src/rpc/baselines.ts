/**
 * The libraries users would pick instead, set up as their documentation suggests, on the same simulated
 * endpoints as ours. Where a library default would make the comparison meaningless (a result cache that
 * answers repeated reads without any request, or request batching that adds a fixed wait) it is turned
 * off, and the settings string says so.
 */
import { address, createSolanaRpc } from '@solana/kit';
import { FallbackProvider, JsonRpcProvider, Network } from 'ethers';
import { createPublicClient, defineChain, fallback, http } from 'viem';
import type { PublicClient, Transport } from 'viem';
import { lamportsOfWei, rotate } from './contender.js';
import type { RpcContender } from './contender.js';

/** A single endpoint through @solana/kit's default HTTP transport (no retries, no timeout). */
export function kitSingle(url: string, endpointId: string): RpcContender {
  const rpc = createSolanaRpc(url);
  return {
    name: `@solana/kit, 1 endpoint (${endpointId})`,
    kind: 'baseline',
    settings: `createSolanaRpc(url) defaults: one endpoint (${endpointId}), no retry, no timeout, request coalescing within a tick (every worker reads its own account, so nothing coalesces)`,
    async getBalance(target) {
      const { value } = await rpc.getBalance(address(target.solana)).send();
      return value;
    },
    close: () => Promise.resolve(),
  };
}

/**
 * @solana/kit on one endpoint at a time, the endpoint changing call by call: what a user who picked one
 * provider gets, averaged over which provider that happened to be.
 */
export function kitRotating(endpoints: ReadonlyArray<{ id: string; url: string }>): RpcContender {
  const rpcs = endpoints.map((e) => createSolanaRpc(e.url));
  let calls = 0;
  return {
    name: '@solana/kit, 1 endpoint (rotated)',
    kind: 'baseline',
    settings: 'createSolanaRpc(url) defaults on one endpoint per call, the endpoint rotating call by call',
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

export interface ViemOptions {
  readonly urls: readonly string[];
  readonly evmChainId: number;
  readonly rank: boolean;
  /**
   * Whether the scenario is still running: the ranking loop of viem's `fallback` cannot be stopped, so its
   * pings stop being sent (they reject without a request) once the scenario ends, lest they hit a later
   * scenario's endpoints on reused ports.
   */
  readonly active: () => boolean;
}

/**
 * viem `fallback` over one `http()` transport per endpoint, through a public client with a custom chain.
 * Without `rank`, the endpoint order decides who gets every call, so the order is rotated call by call
 * (one client per rotation, used in turn) to give no endpoint a fixed place. With `rank`, viem reorders by its own pings
 * (every 4 s, `eth_blockNumber`: the default `net_listening` is not served by the simulated endpoints,
 * and a ranking on errors alone would be meaningless); those pings are counted as this contender's load.
 */
export function viemFallback(options: ViemOptions): RpcContender {
  const chain = benchChain(options.evmChainId, options.urls[0]!);
  const pings = new Map<string, number>();
  const makeClient = (urls: readonly string[]): PublicClient => {
    const transports = urls.map((url) => http(url));
    const rank = options.rank
      ? {
          ping: ({ transport }: { transport: ReturnType<Transport> }) => {
            const url = (transport.value as { url?: string } | undefined)?.url ?? '';
            if (!options.active()) return Promise.reject(new Error('scenario over'));
            pings.set(url, (pings.get(url) ?? 0) + 1);
            return transport.request({ method: 'eth_blockNumber' });
          },
        }
      : false;
    return createPublicClient({ chain, transport: fallback(transports, { rank }) });
  };
  const clients = options.rank ? [makeClient(options.urls)] : options.urls.map((_, i) => makeClient(rotate(options.urls, i)));
  let calls = 0;
  return {
    name: options.rank ? 'viem fallback, rank' : 'viem fallback',
    kind: 'baseline',
    settings:
      'viem defaults: http() timeout 10 s and no retry inside fallback; fallback retryCount 3 with 150 ms × 2ⁿ backoff once every endpoint failed; ' +
      (options.rank
        ? 'rank: eth_blockNumber ping every 4 s (pollingInterval), 10 samples, weights latency 0.3 / stability 0.7'
        : 'no rank: first endpoint first, endpoint order rotated call by call'),
    async getBalance(target) {
      const client = clients[calls++ % clients.length]!;
      return lamportsOfWei(await client.getBalance({ address: target.evm }));
    },
    backgroundRequests: () => pings,
    close: () => Promise.resolve(),
  };
}

export interface EthersOptions {
  readonly urls: readonly string[];
  readonly evmChainId: number;
  readonly quorum: 1 | 2;
}

/**
 * ethers v6 `FallbackProvider` over one `JsonRpcProvider` per endpoint. `staticNetwork` so that nothing
 * probes the chain id per call; batching off (`batchMaxCount: 1`, otherwise each request waits 10 ms to
 * gather a batch); the 250 ms result cache off (`cacheTimeout: -1`) so every call reaches the network.
 */
export function ethersFallback(options: EthersOptions): RpcContender {
  const network = new Network('bench', options.evmChainId);
  const providers = options.urls.map(
    (url) => new JsonRpcProvider(url, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1 }),
  );
  const provider = new FallbackProvider(
    providers.map((p) => ({ provider: p, stallTimeout: 400, priority: 1, weight: 1 })),
    network,
    { quorum: options.quorum, cacheTimeout: -1 },
  );
  return {
    name: `ethers FallbackProvider, quorum ${options.quorum}`,
    kind: 'baseline',
    settings:
      `ethers defaults: stallTimeout 400 ms (then the next provider joins), priority 1 / weight 1 each (random order), quorum ${options.quorum}; ` +
      'HTTP 429 retried up to 12 times (Retry-After read as ms), request timeout 300 s; staticNetwork, batchMaxCount 1 and cacheTimeout -1 set for a fair comparison',
    async getBalance(target) {
      return lamportsOfWei(await provider.getBalance(target.evm));
    },
    close: async () => {
      await provider.destroy();
    },
  };
}
