import { afterEach, describe, expect, it } from 'vitest';
import { fillerCoinIds, planCoinBatches } from '@x/raida-client';
import type { CoinBatch } from '@x/raida-client';
import { counterfeitCoin, createTestCoins } from '@x/testkit';
import type { RaidaRequestEvent } from '@x/testkit';
import { clientFor, closeAll, cluster } from './helpers.js';

afterEach(closeAll);

const RECORD = { detect: 21, pown: 37 } as const;

/** The reference's rule, written out: never a type-1 body whose (bodyLength − 2) mod 16 is 1 to 6. */
function crashes(bodyLength: number): boolean {
  const tail = (bodyLength - 2) % 16;
  return tail >= 1 && tail <= 6;
}

const bodyLength = (command: 'detect' | 'pown', coins: number): number => 18 + RECORD[command] * coins;
const perRequest = (command: 'detect' | 'pown', maxRequestBytes: number): number => Math.floor((maxRequestBytes - 50) / RECORD[command]);

/**
 * Fewest requests, then fewest fillers, over every possible split of 0..nMax coins (index = coin count;
 * `undefined` where no split is crash-safe): the brute-force answer the planner must match.
 */
function optimum(command: 'detect' | 'pown', nMax: number, m: number): ({ requests: number; fillers: number } | undefined)[] {
  const fill: number[] = [];
  for (let s = 1; s <= m; s++) {
    let f = -1;
    for (let total = s; total <= m; total++) {
      if (!crashes(bodyLength(command, total))) {
        f = total - s;
        break;
      }
    }
    fill[s] = f;
  }
  const best: { requests: number; fillers: number }[] = [{ requests: 0, fillers: 0 }];
  for (let k = 1; k <= nMax; k++) {
    let here = { requests: Infinity, fillers: Infinity };
    for (let s = 1; s <= Math.min(k, m); s++) {
      const f = fill[s]!;
      if (f < 0) continue;
      const r = best[k - s]!.requests + 1;
      const total = best[k - s]!.fillers + f;
      if (r < here.requests || (r === here.requests && total < here.fillers)) here = { requests: r, fillers: total };
    }
    best.push(here);
  }
  return best.map((entry) => (entry.requests === Infinity ? undefined : entry));
}

/** What is wrong with a plan (an empty list when nothing is): checked without `expect` per batch, for speed. */
function planProblems(batches: readonly CoinBatch[], command: 'detect' | 'pown', n: number, maxRequestBytes: number): string[] {
  const m = perRequest(command, maxRequestBytes);
  const problems: string[] = [];
  let next = 0;
  for (const batch of batches) {
    const coins = batch.count + batch.fillers;
    if (batch.offset !== next) problems.push(`batch at ${batch.offset}, expected ${next}`);
    if (batch.count < 1) problems.push('an empty batch');
    if (coins > m || 32 + bodyLength(command, coins) > maxRequestBytes) problems.push(`${coins} coins over ${maxRequestBytes} bytes`);
    if (crashes(bodyLength(command, coins))) problems.push(`crash length ${bodyLength(command, coins)}`);
    next += batch.count;
  }
  if (next !== n) problems.push(`covers ${next} coins of ${n}`);
  return problems.map((problem) => `${command}, ${n} coins, ${maxRequestBytes} bytes: ${problem}`);
}

function checkPlan(batches: readonly CoinBatch[], command: 'detect' | 'pown', n: number, maxRequestBytes: number): void {
  expect(planProblems(batches, command, n, maxRequestBytes)).toEqual([]);
}

describe('planCoinBatches: no crash length with encryption type 1', () => {
  it.each(['detect', 'pown'] as const)(
    '%s: every coin count from 1 to 200 at the default 1024 bytes, in the fewest requests and fillers',
    (command) => {
      for (let n = 1; n <= 200; n++) {
        const batches = planCoinBatches({ command, coinCount: n, maxRequestBytes: 1024, encrypted: true });
        checkPlan(batches, command, n, 1024);
        const best = optimum(command, n, perRequest(command, 1024))[n]!;
        expect(batches.length, `${n} coins`).toBe(best.requests);
        expect(
          batches.reduce((sum, batch) => sum + batch.fillers, 0),
          `${n} coins`,
        ).toBe(best.fillers);
      }
      // A single coin alone would be a crash length (39 / 55 bytes): it goes with one filler.
      expect(planCoinBatches({ command, coinCount: 1, maxRequestBytes: 1024, encrypted: true })).toEqual([
        { offset: 0, count: 1, fillers: 1 },
      ]);
    },
  );

  it('splits 47 detect coins without the 46 + 1 that crashes a server', () => {
    const batches = planCoinBatches({ command: 'detect', coinCount: 47, maxRequestBytes: 1024, encrypted: true });
    expect(batches.map((batch) => batch.count + batch.fillers).some((coins) => coins === 1 || coins === 46)).toBe(false);
    expect(batches).toHaveLength(2);
  });

  it.each(['detect', 'pown'] as const)('%s: the splitting at every maxRequestBytes, for 1 to 200 coins', (command) => {
    const seen = new Set<number>();
    const problems: string[] = [];
    for (let maxRequestBytes = 87; maxRequestBytes <= 65_507; maxRequestBytes++) {
      // Limits that fit the same number of coins split alike, and beyond 201 coins a request holds all 200 and a filler.
      const m = Math.min(201, perRequest(command, maxRequestBytes));
      if (seen.has(m)) continue;
      seen.add(m);
      const table = optimum(command, 200, m);
      for (let n = 1; n <= 200; n++) {
        const best = table[n];
        if (best === undefined) {
          try {
            planCoinBatches({ command, coinCount: n, maxRequestBytes, encrypted: true });
            problems.push(`${command}, ${n} coins, ${maxRequestBytes} bytes: planned, but no split is crash-safe`);
          } catch (error) {
            if ((error as { code?: unknown }).code !== 'RAIDA_CLIENT_INVALID_OPTIONS') throw error;
          }
          continue;
        }
        const batches = planCoinBatches({ command, coinCount: n, maxRequestBytes, encrypted: true });
        problems.push(...planProblems(batches, command, n, maxRequestBytes));
        const fillers = batches.reduce((sum, batch) => sum + batch.fillers, 0);
        if (batches.length !== best.requests || fillers !== best.fillers) {
          problems.push(
            `${command}, ${n} coins, ${maxRequestBytes} bytes: ${batches.length} requests and ${fillers} fillers, best ${best.requests} and ${best.fillers}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
    // Both the limits that leave no safe request and the ones that do were met.
    expect(seen.size).toBeGreaterThan(150);
  });

  it('unencrypted requests carry as many coins as fit, without fillers', () => {
    expect(planCoinBatches({ command: 'detect', coinCount: 47, maxRequestBytes: 1024, encrypted: false })).toEqual([
      { offset: 0, count: 46, fillers: 0 },
      { offset: 46, count: 1, fillers: 0 },
    ]);
  });
});

describe('fillerCoinIds', () => {
  it('never repeats a coin of the caller or another filler', () => {
    const taken = [
      { denomination: 0, serialNumber: 0xffffffff },
      { denomination: 1, serialNumber: 0xfffffffe },
    ];
    const ids = fillerCoinIds(3, taken);
    expect(ids).toEqual([
      { denomination: 0, serialNumber: 0xfffffffe },
      { denomination: 0, serialNumber: 0xfffffffd },
      { denomination: 0, serialNumber: 0xfffffffc },
    ]);
  });
});

describe('detect and pown with encryption type 1 send only crash-safe requests', () => {
  it("for every coin count, and the filler is never one of the caller's verdicts", async () => {
    const coins = createTestCoins(60, 21, { raidaCount: 3 });
    const [key] = createTestCoins(1, 22, { raidaCount: 3 });
    const lengths: number[] = [];
    // AES-NI hosts, which a crash-length type-1 request would kill: they count it as a crash instead of answering.
    const raida = await cluster({
      count: 3,
      coins: [key!, ...coins],
      behavior: { aesNiHost: true },
      onRequest: (event: RaidaRequestEvent) => lengths.push(event.length - 32),
    });
    const client = clientFor(raida, { attemptTimeoutMs: 2000 });
    const encryption = { type: 1, keyCoin: key! } as const;
    for (let n = 1; n <= 60; n++) {
      // Every third coin counterfeit: verdicts the filler must not shift or extend.
      const wallet = coins.slice(0, n).map((coin, i) => (i % 3 === 2 ? counterfeitCoin(coin) : coin));
      const result = await client.detect(wallet, { encryption });
      for (const server of result.servers) expect(server.verdicts).toEqual(wallet.map((_, i) => i % 3 !== 2));
      expect(result.coins).toHaveLength(n);
    }
    const [single] = createTestCoins(1, 23, { raidaCount: 3 });
    raida.addCoin(single!);
    const powned = await client.pown([single!], [createTestCoins(1, 24, { raidaCount: 3 })[0]!.ans], { encryption });
    expect(powned.servers.map((server) => server.status)).toEqual(['pass', 'pass', 'pass']);
    expect(powned.servers[0]).toMatchObject({ statusCode: 241, verdicts: [true] });
    expect(lengths.filter(crashes)).toEqual([]);
    expect(raida.stats().map((stats) => stats.crashes)).toEqual([0, 0, 0]);
    // A one-coin detect and pown went out with a filler: 2 coins, not the crash lengths 39 and 55.
    expect(lengths).toContain(bodyLength('detect', 2));
    expect(lengths).toContain(bodyLength('pown', 2));
    expect(lengths).not.toContain(39);
    expect(lengths).not.toContain(55);
  });

  it('refuses a maxRequestBytes that leaves no crash-safe encrypted request, and sends nothing', async () => {
    const [key, coin] = createTestCoins(2, 25, { raidaCount: 3 });
    const raida = await cluster({ count: 3, coins: [key!, coin!] });
    const client = clientFor(raida, { attemptTimeoutMs: 2000, maxRequestBytes: 90 });
    await expect(client.detect([coin!], { encryption: { type: 1, keyCoin: key! } })).rejects.toMatchObject({
      code: 'RAIDA_CLIENT_INVALID_OPTIONS',
    });
    expect(raida.stats().every((stats) => stats.received === 0)).toBe(true);
  });
});
