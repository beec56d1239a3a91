/**
 * The replica part of the throughput scenario: two replicas of a service (two child processes, each with its own
 * @x/pool) read through the same rate-limited relays at once, first with budgets each of its own (local), then with
 * one Redis budget store shared by both (@x/budget-redis on a real redis-server). Counted at the endpoints.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RpcRelayStats } from '@x/testkit';
import type { OursThroughputVariant } from '../rpc/ours-throughput.js';
import type { ReplicaRequest, ReplicaResult } from '../throughput-replica.js';

type Distribute<T> = T extends unknown ? T : never;

interface Replica {
  request<T>(message: Distribute<ReplicaRequest>): Promise<T>;
  close(): Promise<void>;
}

function startReplica(): Replica {
  const child: ChildProcess = fork(fileURLToPath(new URL('../throughput-replica.ts', import.meta.url)), [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const failAll = (error: Error): void => {
    for (const entry of waiting.values()) entry.reject(error);
    waiting.clear();
  };
  child.on('message', (reply: { id: number; ok: boolean; value?: unknown; message?: string }) => {
    const entry = waiting.get(reply.id);
    if (entry === undefined) return;
    waiting.delete(reply.id);
    if (reply.ok) entry.resolve(reply.value);
    else entry.reject(new Error(`replica: ${reply.message ?? 'failed'}`));
  });
  child.on('exit', (code) => failAll(new Error(`replica exited (code ${String(code)})`)));
  child.on('error', failAll);
  return {
    request<T>(message: Distribute<ReplicaRequest>): Promise<T> {
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

export interface ReplicaPhase {
  /** `local`: each replica's budgets in a store of its own; `redis`: one Redis store shared by both. */
  readonly store: 'local' | 'redis';
  /** The store mode each replica reported after its run (`local`, `shared`, `degraded`). */
  readonly modes: readonly string[];
  readonly offeredPerS: number;
  readonly servedPerS: number;
  readonly servedShare: number;
  /** HTTP 429s the relays answered because of their rate limit, during the phase. */
  readonly tooManyRequests: number;
  /** Endpoint id → requests it served during the phase / (R × the phase's time). */
  readonly utilisation: Readonly<Record<string, number>>;
  readonly failed: number;
  readonly unfinished: number;
  readonly errors: string;
}

export interface ReplicaPartOptions {
  readonly endpoints: ReadonlyArray<{ id: string; url: string }>;
  readonly limit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly variant: OursThroughputVariant;
  readonly redis: { readonly url: string; readonly keyPrefix: string } | undefined;
  /** Calls a second offered to each replica. */
  readonly callsPerSecond: number;
  readonly durationMs: number;
  readonly graceMs: number;
  readonly seed: number;
  readonly accounts: ReadonlyArray<{ readonly evm: `0x${string}`; readonly wei: string }>;
  readonly stats: () => Promise<readonly RpcRelayStats[]>;
}

/** Two replicas at once with one kind of store; the endpoints' counts are read around the phase. */
export async function runReplicaPhase(store: 'local' | 'redis', options: ReplicaPartOptions): Promise<ReplicaPhase> {
  const replicas = [startReplica(), startReplica()];
  try {
    const redis = store === 'redis' && options.redis !== undefined ? { ...options.redis, replicas: replicas.length } : undefined;
    if (store === 'redis' && redis === undefined) throw new Error('no Redis for the shared phase');
    await Promise.all(
      replicas.map((replica) =>
        replica.request({
          op: 'start',
          endpoints: options.endpoints,
          limit: options.limit,
          variant: options.variant,
          ...(redis === undefined ? {} : { redis }),
        }),
      ),
    );
    const before = await options.stats();
    const results = await Promise.all(
      replicas.map((replica, index) =>
        replica.request<ReplicaResult>({
          op: 'run',
          callsPerSecond: options.callsPerSecond,
          durationMs: options.durationMs,
          graceMs: options.graceMs,
          seed: options.seed * 1000 + index,
          accounts: options.accounts,
        }),
      ),
    );
    const after = await options.stats();
    const seconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
    const utilisation: Record<string, number> = {};
    let tooMany = 0;
    for (const end of after) {
      const start = before.find((s) => s.id === end.id);
      utilisation[end.id] = (end.outcomes.forwarded - (start?.outcomes.forwarded ?? 0)) / (options.limit.requestsPerSecond * seconds);
      tooMany += end.outcomes['over-limit'] - (start?.outcomes['over-limit'] ?? 0);
    }
    const issued = results.reduce((sum, r) => sum + r.issued, 0);
    const served = results.reduce((sum, r) => sum + r.served, 0);
    const errors = new Map<string, number>();
    for (const r of results) for (const [name, count] of r.errors) errors.set(name, (errors.get(name) ?? 0) + count);
    return {
      store,
      modes: results.map((r) => r.store),
      offeredPerS: issued / (options.durationMs / 1000),
      servedPerS: served / seconds,
      servedShare: issued === 0 ? Number.NaN : served / issued,
      tooManyRequests: tooMany,
      utilisation,
      failed: results.reduce((sum, r) => sum + r.failed, 0),
      unfinished: results.reduce((sum, r) => sum + r.unfinished, 0),
      errors: [...errors]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([name, count]) => `${count}× ${name}`)
        .join('; '),
    };
  } finally {
    await Promise.allSettled(replicas.map((r) => r.close()));
  }
}
