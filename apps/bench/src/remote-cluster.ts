import { fileURLToPath } from 'node:url';
import { forkHost, type Host, type WithoutId } from './child-host.js';
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

/**
 * Forks cluster-host.ts ('advanced' serialization carries bigint and Uint8Array), asks it to `start`, and builds the
 * handle from what it answers; a start that fails closes the host before rejecting.
 */
async function startOnHost<Started, Handle>(
  start: WithoutId<HostRequest>,
  build: (host: Host<HostRequest>, started: Started) => Handle,
): Promise<Handle> {
  const host = forkHost<HostRequest>(fileURLToPath(new URL('./cluster-host.ts', import.meta.url)), 'cluster host', {
    serialization: 'advanced',
  });
  try {
    return build(host, await host.request<Started>(start));
  } catch (error) {
    await host.close().catch(() => undefined);
    throw error;
  }
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

export function startRemoteRpcCluster(options: RpcClusterOptions): Promise<RemoteRpcCluster> {
  return startOnHost(
    { op: 'start-rpc', options },
    (host, started: { endpoints: RpcEndpointInfo[]; evmChainId: number; wallets: string[] }): RemoteRpcCluster => ({
      ...started,
      stats: () => host.request({ op: 'call', path: ['stats'], args: [] }),
      chain: (method, ...args) => host.request({ op: 'call', path: ['chain', method], args }),
      setBehavior: async (id, patch) => {
        await host.request({ op: 'call', path: ['setBehavior'], args: [id, patch] });
      },
      loopDelay: () => host.request({ op: 'loop-delay' }),
      close: () => host.close(),
    }),
  );
}

/** A RAIDA cluster of @x/testkit running in a child process. */
export interface RemoteRaidaCluster {
  readonly servers: readonly RaidaServerInfo[];
  stats(): Promise<readonly RaidaServerStats[]>;
  close(): Promise<void>;
}

export function startRemoteRaidaCluster(options: RaidaClusterOptions): Promise<RemoteRaidaCluster> {
  return startOnHost({ op: 'start-raida', options }, (host, started: { servers: RaidaServerInfo[] }): RemoteRaidaCluster => ({
    servers: started.servers,
    stats: () => host.request({ op: 'call', path: ['stats'], args: [] }),
    close: () => host.close(),
  }));
}

/** Fault-injecting relays of @x/testkit in front of a real node, running in a child process. */
export interface RemoteRelays {
  readonly endpoints: readonly RpcRelayInfo[];
  /** Per relay: `requests` received, and the full relay statistics. */
  stats(): Promise<ReadonlyArray<RpcRelayStats>>;
  loopDelay(): Promise<LoopDelay>;
  close(): Promise<void>;
}

export function startRemoteRelays(options: Omit<RpcRelaysOptions, 'onRequest'>): Promise<RemoteRelays> {
  return startOnHost({ op: 'start-relays', options }, (host, started: { relays: RpcRelayInfo[] }): RemoteRelays => ({
    endpoints: started.relays,
    stats: () => host.request({ op: 'call', path: ['stats'], args: [] }),
    loopDelay: () => host.request({ op: 'loop-delay' }),
    close: () => host.close(),
  }));
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
