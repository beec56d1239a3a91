import { fileURLToPath } from 'node:url';
import { forkHost, type Host } from './child-host.js';
import type { CallTarget } from './rpc/contender.js';
import type {
  RaidaClusterOptions,
  RaidaServerInfo,
  RaidaServerStats,
  RpcClusterOptions,
  RpcEndpointInfo,
  RpcEndpointStats,
  RpcRelayInfo,
  RpcRelaysOptions,
  RpcRelayStats,
} from '@x/testkit';

export type HostRequest =
  | { readonly id: number; readonly op: 'start-rpc'; readonly options: RpcClusterOptions }
  | { readonly id: number; readonly op: 'start-raida'; readonly options: RaidaClusterOptions }
  | { readonly id: number; readonly op: 'start-relays'; readonly options: Omit<RpcRelaysOptions, 'onRequest'> }
  | { readonly id: number; readonly op: 'call'; readonly path: readonly string[]; readonly args: readonly unknown[] }
  | { readonly id: number; readonly op: 'loop-delay' }
  | { readonly id: number; readonly op: 'close' };

/** Forks cluster-host.ts; 'advanced' serialization carries bigint and Uint8Array. */
function startHost(): Host<HostRequest> {
  return forkHost<HostRequest>(fileURLToPath(new URL('./cluster-host.ts', import.meta.url)), 'cluster host', { serialization: 'advanced' });
}

/** A JSON-RPC cluster of @x/testkit running in a child process; the methods mirror `RpcCluster`'s. */
export interface RemoteRpcCluster {
  readonly endpoints: readonly RpcEndpointInfo[];
  readonly evmChainId: number;
  readonly wallets: readonly string[];
  stats(): Promise<readonly RpcEndpointStats[]>;
  /** Any `cluster.chain` method, e.g. `chain('account', address)`. */
  chain<T>(method: string, ...args: unknown[]): Promise<T>;
  setBehavior(id: string, patch: unknown): Promise<void>;
  /** Event-loop delay of the cluster's process since the last reading, in ms. */
  loopDelay(): Promise<LoopDelay>;
  close(): Promise<void>;
}

export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export async function startRemoteRpcCluster(options: RpcClusterOptions): Promise<RemoteRpcCluster> {
  const host = startHost();
  try {
    const started = await host.request<{ endpoints: RpcEndpointInfo[]; evmChainId: number; wallets: string[] }>({
      op: 'start-rpc',
      options,
    });
    return {
      ...started,
      stats: () => host.request({ op: 'call', path: ['stats'], args: [] }),
      chain: (method, ...args) => host.request({ op: 'call', path: ['chain', method], args }),
      setBehavior: async (id, patch) => {
        await host.request({ op: 'call', path: ['setBehavior'], args: [id, patch] });
      },
      loopDelay: () => host.request({ op: 'loop-delay' }),
      close: () => host.close(),
    };
  } catch (error) {
    await host.close().catch(() => undefined);
    throw error;
  }
}

/** A RAIDA cluster of @x/testkit running in a child process. */
export interface RemoteRaidaCluster {
  readonly servers: readonly RaidaServerInfo[];
  stats(): Promise<readonly RaidaServerStats[]>;
  close(): Promise<void>;
}

export async function startRemoteRaidaCluster(options: RaidaClusterOptions): Promise<RemoteRaidaCluster> {
  const host = startHost();
  try {
    const started = await host.request<{ servers: RaidaServerInfo[] }>({ op: 'start-raida', options });
    return {
      servers: started.servers,
      stats: () => host.request({ op: 'call', path: ['stats'], args: [] }),
      close: () => host.close(),
    };
  } catch (error) {
    await host.close().catch(() => undefined);
    throw error;
  }
}

/** Fault-injecting relays of @x/testkit in front of a real node, running in a child process. */
export interface RemoteRelays {
  readonly endpoints: readonly RpcRelayInfo[];
  /** Per relay: `requests` received, and the full relay statistics. */
  stats(): Promise<ReadonlyArray<RpcRelayStats>>;
  loopDelay(): Promise<LoopDelay>;
  close(): Promise<void>;
}

export async function startRemoteRelays(options: Omit<RpcRelaysOptions, 'onRequest'>): Promise<RemoteRelays> {
  const host = startHost();
  try {
    const started = await host.request<{ relays: RpcRelayInfo[] }>({ op: 'start-relays', options });
    return {
      endpoints: started.relays,
      stats: () => host.request({ op: 'call', path: ['stats'], args: [] }),
      loopDelay: () => host.request({ op: 'loop-delay' }),
      close: () => host.close(),
    };
  } catch (error) {
    await host.close().catch(() => undefined);
    throw error;
  }
}

/** Per-endpoint request counts between two `stats()` readings. */
export function requestsBetween(
  before: ReadonlyArray<{ id: string; requests: number }>,
  after: ReadonlyArray<{ id: string; requests: number }>,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const end of after) {
    const start = before.find((s) => s.id === end.id);
    counts.set(end.id, end.requests - (start?.requests ?? 0));
  }
  return counts;
}

/** The first `count` wallets of `cluster` with their EVM addresses: one call target per caller. */
export async function walletTargets(cluster: RemoteRpcCluster, count: number): Promise<CallTarget[]> {
  return Promise.all(
    cluster.wallets.slice(0, count).map(async (solana) => ({ solana, evm: await cluster.chain<`0x${string}`>('evmAddressOf', solana) })),
  );
}
