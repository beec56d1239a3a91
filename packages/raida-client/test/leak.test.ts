import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRaidaClient } from '@x/raida-client';
import type { RaidaClient } from '@x/raida-client';
import { createTestCoins, frackCoin, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster } from '@x/testkit';
import { handlesSettled } from './helpers.js';

// CI size; LEAK_ROUNDS=10000 is the large run of docs/reliability.md, LEAK_REPORT=1 prints its figures.
const ROUNDS = Number(process.env.LEAK_ROUNDS ?? 200);
const REPORT = process.env.LEAK_REPORT === '1';
const WARM_UP = Math.min(50, ROUNDS);
/**
 * Heap growth allowed between the warmed-up client and the end, after a full GC. A leak of a single
 * 1 KiB buffer per round already exceeds it at 10,000 rounds; at CI size it catches ~20 KiB per round.
 */
const HEAP_GROWTH_LIMIT = 4 * 1024 * 1024;

// A full collection before each reading: without it heap figures are mostly garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

async function settledHeap(): Promise<number> {
  await handlesSettled();
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const coins = createTestCoins(3, 'leak');
let raida: RaidaCluster;
let client: RaidaClient;

beforeAll(async () => {
  raida = await startRaidaCluster({ seed: 'leak', coins, behaviors: { 3: { dropRate: 0.5 }, 11: { down: true } } });
  client = createRaidaClient({ servers: raida.servers });
});

afterAll(async () => {
  await client.close();
  await raida.close();
});

describe('RAIDA rounds leave nothing behind', () => {
  it(
    `${ROUNDS} rounds (echo, detect, pown; one lossy and one silent server): handles back to baseline, heap growth bounded`,
    { timeout: Math.max(30_000, ROUNDS * 60) },
    async () => {
      const wallet = [coins[0]!, frackCoin(coins[1]!, [4]), coins[2]!];
      // The silent server costs each round its timeout: short, so that many rounds fit in CI. Under load
      // some honest replies may miss it too; this test is about what is left behind, not about verdicts.
      const options = { attemptTimeoutMs: 15 };
      const roundTrip = async (r: number): Promise<void> => {
        let result;
        if (r % 10 === 9) {
          // pown to the same ANs: the coin table stays as it is, the code path is the real one.
          result = await client.pown([coins[2]!], [coins[2]!.ans], options);
        } else if (r % 2 === 1) {
          result = await client.detect(wallet, options);
          expect(result.coins[0]!.verdict).not.toBe('counterfeit');
        } else {
          result = await client.echo(options);
        }
        expect(result.statuses[11]).toBe('timeout');
      };

      for (let r = 0; r < WARM_UP; r++) await roundTrip(r);
      const handlesBefore = resources();
      const heapBefore = await settledHeap();
      const started = performance.now();
      for (let r = WARM_UP; r < ROUNDS; r++) await roundTrip(r);
      const seconds = (performance.now() - started) / 1000;
      const heapAfter = await settledHeap();
      const handlesAfter = resources();

      // The vitest timer of this test is in both readings; the client keeps no socket between calls.
      expect(handlesAfter.get('UDPWrap') ?? 0).toBe(handlesBefore.get('UDPWrap') ?? 0);
      expect(handlesAfter.get('Timeout') ?? 0).toBe(handlesBefore.get('Timeout') ?? 0);
      expect(heapAfter - heapBefore).toBeLessThan(HEAP_GROWTH_LIMIT);
      if (REPORT) {
        const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);
        console.log(
          `RAIDA leak run: ${ROUNDS - WARM_UP} rounds after ${WARM_UP} warm-up in ${seconds.toFixed(1)} s; ` +
            `heap ${mb(heapBefore)} → ${mb(heapAfter)} MiB (${((heapAfter - heapBefore) / (ROUNDS - WARM_UP)).toFixed(1)} B/round); ` +
            `UDP handles ${handlesBefore.get('UDPWrap') ?? 0} → ${handlesAfter.get('UDPWrap') ?? 0}; timers ${handlesBefore.get('Timeout') ?? 0} → ${handlesAfter.get('Timeout') ?? 0}; ` +
            `rss ${mb(process.memoryUsage().rss)} MiB`,
        );
      }
    },
  );
});
