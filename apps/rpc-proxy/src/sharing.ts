import type { SolanaRpc } from '@x/solana-rpc';
import { createAnswerCache } from './answer-cache.js';
import type { AnswerCacheStats } from './answer-cache.js';
import type { CacheLimits } from './config.js';
import { createSharedCalls } from './shared-calls.js';
import type { SharedCalls } from './shared-calls.js';
import type { UpstreamTraffic } from './upstream.js';

/** Upstream traffic and sharing, in `/stats` as `upstream`. */
interface SharingStats {
  /** Per endpoint: HTTP requests sent upstream, and the calls they carried (a batch of n: one request, n calls). */
  readonly endpoints: ReadonlyArray<{
    readonly id: string;
    readonly requests: number;
    readonly calls: number;
    readonly refusesBatches: boolean;
  }>;
  /** Calls answered by joining an identical read already in flight. */
  readonly coalesced: number;
  /** `null` when the cache is off. */
  readonly cache: AnswerCacheStats | null;
}

export interface Sharing {
  readonly shared: SharedCalls;
  stats(): SharingStats;
  /** Prometheus text, appended to `/metrics`. */
  metrics(): string;
}

const label = (id: string): string => id.replace(/["\\\n]/g, '_');

/** The shared calls (coalescing, cache) over `rpc`, and the report of what went upstream through `traffic`. */
export function createSharing(rpc: SolanaRpc, traffic: UpstreamTraffic, coalesce: boolean, cacheLimits: CacheLimits | undefined): Sharing {
  const cache = cacheLimits === undefined ? undefined : createAnswerCache(cacheLimits);
  const shared = createSharedCalls({ rpc, coalesce, cache });

  const stats = (): SharingStats => {
    const refusing = new Set(rpc.refusingBatches());
    return {
      endpoints: rpc.endpoints.map((endpoint, index) => ({
        id: endpoint.id,
        requests: traffic.requests[index] ?? 0,
        calls: traffic.calls[index] ?? 0,
        refusesBatches: refusing.has(endpoint.id),
      })),
      coalesced: shared.counters().coalesced,
      cache: cache?.stats() ?? null,
    };
  };

  const metrics = (): string => {
    const now = stats();
    const lines: string[] = [];
    const perEndpoint = (
      name: string,
      type: 'counter' | 'gauge',
      help: string,
      value: (entry: SharingStats['endpoints'][number]) => number,
    ): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const entry of now.endpoints) lines.push(`${name}{endpoint="${label(entry.id)}"} ${value(entry)}`);
    };
    const single = (name: string, type: 'counter' | 'gauge', help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    perEndpoint(
      'rpc_proxy_upstream_requests_total',
      'counter',
      'HTTP requests sent to this provider (a JSON-RPC batch is one).',
      (e) => e.requests,
    );
    perEndpoint(
      'rpc_proxy_upstream_calls_total',
      'counter',
      'JSON-RPC calls carried by the requests sent to this provider.',
      (e) => e.calls,
    );
    perEndpoint(
      'rpc_proxy_upstream_refuses_batches',
      'gauge',
      '1 when this provider refused a JSON-RPC batch: it gets one request per call since.',
      (e) => (e.refusesBatches ? 1 : 0),
    );
    single('rpc_proxy_coalesced_calls_total', 'counter', 'Calls answered by joining an identical read already in flight.', now.coalesced);
    if (now.cache !== null) {
      single('rpc_proxy_cache_hits_total', 'counter', 'Calls answered from the cache of final answers.', now.cache.hits);
      single('rpc_proxy_cache_misses_total', 'counter', 'Cacheable calls (final methods at finalized) not in the cache.', now.cache.misses);
      single('rpc_proxy_cache_entries', 'gauge', 'Answers in the cache.', now.cache.entries);
      single('rpc_proxy_cache_bytes', 'gauge', 'Bytes of the answers (and keys) in the cache.', now.cache.bytes);
    }
    return `${lines.join('\n')}\n`;
  };

  return { shared, stats, metrics };
}
