import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { createSolanaMultiRpc } from '@x/solana-rpc';
import type { SolanaRpc } from '@x/solana-rpc';
import { startRpcCluster } from '@x/testkit';
import type { RpcCluster } from '@x/testkit';

// CI size; LEAK_CALLS=100000 is the large run of docs/reliability.md, LEAK_REPORT=1 prints its figures.
const CALLS = Number(process.env.LEAK_CALLS ?? 1_000);
const REPORT = process.env.LEAK_REPORT === '1';
const WARM_UP = Math.min(300, CALLS);
const CONCURRENCY = 8;
/** After a full GC. A leak of one small object per call (~100 B) exceeds it at 100,000 calls. */
const HEAP_GROWTH_LIMIT = 8 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const count = (kind: string): number => process.getActiveResourcesInfo().filter((resource) => resource === kind).length;
const sockets = (): number => count('TCPSocketWrap');

let cluster: RpcCluster;
let client: SolanaRpc;
let socketsBefore = 0;
let timersBefore = 0;

beforeAll(async () => {
  cluster = await startRpcCluster({
    seed: 'leak',
    autoAdvance: false,
    endpoints: [
      { id: 'fast' },
      { id: 'flaky', behavior: { errorRate: 0.05 } },
      { id: 'limited', behavior: { rateLimit: { requestsPerSecond: 200 } } },
      { id: 'lagging', behavior: { slotLag: 2 } },
    ],
  });
  cluster.chain.advance(20);
});

afterAll(async () => {
  await client.close();
  await cluster.close();
});

function createClient(): SolanaRpc {
  return createSolanaMultiRpc({
    endpoints: cluster.endpoints.map((endpoint) => ({ id: endpoint.id, url: endpoint.url })),
    // Budgets far beyond loopback: this test is about what is left behind, not about speed.
    defaults: { deadlineMs: 5_000 },
    methods: {
      getBalance: { deadlineMs: 5_000 },
      getAccountInfo: { deadlineMs: 5_000 },
      getTransaction: { deadlineMs: 5_000 },
      getSignaturesForAddress: { deadlineMs: 5_000 },
      getSlot: { deadlineMs: 5_000 },
    },
  });
}

describe('Solana RPC calls leave nothing behind', () => {
  it(
    `${CALLS} calls (every strategy, ${CONCURRENCY} at a time, one flaky, one rate-limited, one lagging endpoint): sockets bounded, heap growth bounded, nothing left after close`,
    { timeout: Math.max(60_000, CALLS * 5) },
    async () => {
      // Measured here, where the test's own timer runs, as it still does at the end.
      socketsBefore = sockets();
      timersBefore = count('Timeout');
      client = createClient();
      const [wallet] = cluster.chain.wallets();
      const [signature] = cluster.chain.signatures(wallet!);
      const calls: Array<() => Promise<unknown>> = [
        () => client.call('getBalance', [wallet]),
        () => client.call('getAccountInfo', [wallet, { encoding: 'base64' }]),
        () => client.call('getTransaction', [signature, { maxSupportedTransactionVersion: 0 }]),
        () => client.call('getSignaturesForAddress', [wallet, { limit: 5 }]),
        () => client.call('getSlot', [], { strategy: 'single' }),
        () => client.call('getBalance', [wallet], { strategy: 'consensus', quorum: 2 }),
      ];
      let failures = 0;
      let next = 0;
      const runUntil = async (end: number): Promise<void> => {
        const worker = async (): Promise<void> => {
          while (next < end) {
            const index = next++;
            try {
              await calls[index % calls.length]!();
            } catch (error) {
              // Some calls may fail (flaky node, rate limit, no consensus); they must fail with an XError.
              expect(isXError(error)).toBe(true);
              failures++;
            }
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      };

      await runUntil(WARM_UP);
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      await runUntil(CALLS);
      const seconds = (performance.now() - started) / 1000;
      gc();
      const heapAfter = process.memoryUsage().heapUsed;
      const socketsDuring = sockets() - socketsBefore;
      const snapshot = client.pool.snapshot();

      // Keep-alive connections are reused, never piled up: at most the pool's 16 per endpoint, two ends each.
      expect(socketsDuring).toBeLessThanOrEqual(cluster.endpoints.length * 16 * 2);
      expect(snapshot.endpoints.every((endpoint) => endpoint.inFlight === 0)).toBe(true);
      expect(heapAfter - heapBefore).toBeLessThan(HEAP_GROWTH_LIMIT);
      expect(failures).toBeLessThan(CALLS / 10);

      await client.close();
      await expect.poll(sockets).toBe(socketsBefore);
      expect(count('Timeout')).toBeLessThanOrEqual(timersBefore);
      if (REPORT) {
        const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);
        console.log(
          `RPC leak run: ${CALLS - WARM_UP} calls after ${WARM_UP} warm-up in ${seconds.toFixed(1)} s (${((CALLS - WARM_UP) / seconds).toFixed(0)} calls/s), ` +
            `${failures} failed calls; heap ${mb(heapBefore)} → ${mb(heapAfter)} MiB (${((heapAfter - heapBefore) / (CALLS - WARM_UP)).toFixed(1)} B/call); ` +
            `TCP sockets above baseline while running ${socketsDuring}, after close ${sockets() - socketsBefore}; timers ${timersBefore} → ${count('Timeout')}; ` +
            `rss ${mb(process.memoryUsage().rss)} MiB`,
        );
      }
    },
  );
});
