import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createPool } from '@x/pool';
import { createSolanaSubscriptions } from '@x/solana-rpc';
import { startRpcCluster } from '@x/testkit';
import { describe, expect, it } from 'vitest';

// CI size; LEAK_STREAM_ROUNDS=2000 is the large run of docs/reliability.md, LEAK_REPORT=1 prints its figures.
const ROUNDS = Number(process.env.LEAK_STREAM_ROUNDS ?? 60);
const REPORT = process.env.LEAK_REPORT === '1';
const WARM_UP = Math.min(20, ROUNDS);
/** After a full GC, beyond the simulated chain's own growth. A leak of ~4 KB per round exceeds it at 2,000 rounds. */
const HEAP_GROWTH_LIMIT = 8 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const count = (kind: string): number => process.getActiveResourcesInfo().filter((resource) => resource === kind).length;

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('merged subscriptions leave nothing behind', () => {
  it(
    `${ROUNDS} rounds of subscribe, events, a forced disconnect, unsubscribe: sockets, timers and heap come back`,
    { timeout: Math.max(60_000, ROUNDS * 200) },
    async () => {
      const cluster = await startRpcCluster({
        seed: 'stream-leak',
        autoAdvance: false,
        chain: { transactionsPerSlot: 0 },
        endpoints: [
          { id: 'a' },
          { id: 'b', behavior: { stream: { duplicateRate: 0.5, dropRate: 0.2 } } },
          { id: 'c', behavior: { stream: { reorderRate: 0.5 } } },
        ],
      });
      const [from, to] = cluster.chain.wallets();
      // Every copy is recorded in a pool (its statistics are windowed sketches: bounded whatever the number of events).
      const pool = createPool({ endpoints: cluster.endpoints.map((e) => ({ id: e.id, target: e.wsUrl })) });
      const subs = createSolanaSubscriptions({
        endpoints: cluster.endpoints.map((e) => ({ url: e.wsUrl, id: e.id })),
        pool,
        ws: { reconnect: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 }, pingIntervalMs: 5_000 },
      });
      // The simulated chain keeps every transaction (about 2.4 KB each): measure that first, so that only what the
      // subscriptions leave behind is held against them.
      const transfers = 5 * (ROUNDS - WARM_UP);
      gc();
      const chainBefore = process.memoryUsage().heapUsed;
      for (let i = 0; i < transfers; i++) cluster.chain.transfer({ from: to!, to: from!, lamports: 1 });
      gc();
      const chainGrowth = process.memoryUsage().heapUsed - chainBefore;
      let before = { heap: 0, sockets: 0, timers: 0 };
      const start = performance.now();
      for (let round = 0; round < ROUNDS; round++) {
        if (round === WARM_UP) {
          gc();
          before = { heap: process.memoryUsage().heapUsed, sockets: count('TCPSocketWrap'), timers: count('Timeout') };
        }
        const sub = subs.subscribe('logsSubscribe', [{ mentions: [from] }, { commitment: 'processed' }]);
        await until(() => cluster.endpoints.every((e) => cluster.stats(e.id).stream.subscriptions === 1));
        for (let i = 0; i < 5; i++) cluster.chain.transfer({ from: from!, to: to!, lamports: 1 });
        if (round % 5 === 4) cluster.disconnectStreams('c');
        let events = 0;
        while (events < 5) {
          const r = await sub.next();
          if (r.done === true) throw new Error('ended');
          if (r.value.type === 'event') events++;
        }
        sub.close();
        expect(subs.active).toBe(0);
        await until(() => cluster.endpoints.every((e) => cluster.stats(e.id).stream.subscriptions === 0));
      }
      gc();
      const after = { heap: process.memoryUsage().heapUsed, sockets: count('TCPSocketWrap'), timers: count('Timeout') };
      if (REPORT) {
        const ms = performance.now() - start;
        console.log(
          `${ROUNDS - WARM_UP} rounds after ${WARM_UP} warm-up in ${(ms / 1000).toFixed(1)} s; heap ${(before.heap / 2 ** 20).toFixed(2)} → ${(after.heap / 2 ** 20).toFixed(2)} MiB, of which the chain's ${(chainGrowth / 2 ** 20).toFixed(2)} MiB; TCP ${before.sockets} → ${after.sockets}; timers ${before.timers} → ${after.timers}`,
        );
      }
      expect(after.heap - before.heap - chainGrowth).toBeLessThan(HEAP_GROWTH_LIMIT);
      // Three upstream sockets stay open between subscriptions (one per provider), as before the measured rounds.
      expect(after.sockets).toBe(before.sockets);
      expect(after.timers).toBeLessThanOrEqual(before.timers);
      expect(pool.snapshot().endpoints.reduce((sum, e) => sum + e.stream.firsts, 0)).toBe(5 * ROUNDS);
      await subs.close();
      await until(() => cluster.endpoints.every((e) => cluster.stats(e.id).stream.openConnections === 0));
      await cluster.close();
    },
  );
});
