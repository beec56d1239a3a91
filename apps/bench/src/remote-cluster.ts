import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

export type HostReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string };

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Host {
  request<T>(message: Distribute<HostRequest>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Forks cluster-host.ts with the loader flags of this process (tsx), so the child reads the workspace
 * packages from source exactly as the bench does. 'advanced' serialization carries bigint and Uint8Array.
 */
function startHost(): Host {
  const child: ChildProcess = fork(fileURLToPath(new URL('./cluster-host.ts', import.meta.url)), [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const failAll = (error: Error): void => {
    for (const entry of waiting.values()) entry.reject(error);
    waiting.clear();
  };
  child.on('message', (reply: HostReply) => {
    const entry = waiting.get(reply.id);
    if (entry === undefined) return;
    waiting.delete(reply.id);
    if (reply.ok) entry.resolve(reply.value);
    else entry.reject(new Error(`cluster host: ${reply.message}`));
  });
  child.on('exit', (code) => failAll(new Error(`cluster host exited (code ${String(code)})`)));
  child.on('error', failAll);
  return {
    request<T>(message: Distribute<HostRequest>): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...message, id });
      });
    },
    async close(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        await this.request({ op: 'close' });
      } finally {
        child.disconnect();
        await exited;
      }
    },
  };
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
