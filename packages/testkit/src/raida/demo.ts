import { startRaidaCluster } from './cluster.js';
import type { RaidaCluster } from './cluster.js';
import type { RaidaBehaviorPatch } from './behavior.js';
import { counterfeitCoin, createTestCoins, frackCoin } from './coins.js';
import type { TestCoin } from './coins.js';
import type { RaidaServer } from '@x/raida-protocol';

/** The servers on which the demo's fracked coin holds a different AN than the wallet's. */
export const DEMO_FRACKED_ON: readonly number[] = [5, 20];

/** One of the three demo coins, as a wallet holds it. */
export interface DemoCoin {
  readonly label: 'authentic' | 'fracked' | 'counterfeit';
  readonly coin: TestCoin;
}

export interface DemoRaidaOptions {
  /** Seed of the cluster's latency draws and of the demo coins. Default 1. */
  readonly seed?: number;
  /** RAIDA ids that never answer. Default none. */
  readonly silent?: readonly number[];
  /** RAIDA ids that answer only after this many extra ms: `{ 3: 1500 }`. Default none. */
  readonly slow?: Readonly<Record<number, number>>;
  /** Servers in the cluster. Default 25. */
  readonly count?: number;
}

export interface DemoRaida {
  readonly cluster: RaidaCluster;
  readonly servers: readonly RaidaServer[];
  /** Three coins as a wallet holds them: one authentic, one fracked (on {@link DEMO_FRACKED_ON}), one counterfeit. */
  readonly demoCoins: readonly DemoCoin[];
  close(): Promise<void>;
}

/**
 * The three demo coins of a seed: `originals` as the servers hold them, and `demo` as a wallet holds them (the second
 * fracked on {@link DEMO_FRACKED_ON}, the third counterfeit).
 */
export function createDemoCoins(seed = 1, count = 25): { readonly originals: TestCoin[]; readonly demo: DemoCoin[] } {
  const originals = createTestCoins(3, seed, { raidaCount: count });
  const [good, fracked, fake] = originals;
  const demo: DemoCoin[] = [
    { label: 'authentic', coin: good! },
    {
      label: 'fracked',
      coin: frackCoin(
        fracked!,
        DEMO_FRACKED_ON.filter((id) => id < count),
      ),
    },
    { label: 'counterfeit', coin: counterfeitCoin(fake!) },
  ];
  return { originals, demo };
}

/**
 * A simulated RAIDA on 127.0.0.1 for demos (the `raida --local` command, the tour): a few ms of seeded latency per
 * reply, the three demo coins in its coin table, and the given servers silent or slow.
 */
export async function startDemoRaida(options: DemoRaidaOptions = {}): Promise<DemoRaida> {
  const seed = options.seed ?? 1;
  const count = options.count ?? 25;
  const { originals, demo } = createDemoCoins(seed, count);
  const behaviors: Record<number, RaidaBehaviorPatch> = {};
  for (const id of options.silent ?? []) behaviors[id] = { down: true };
  for (const [id, slowMs] of Object.entries(options.slow ?? {})) behaviors[Number(id)] = { ...behaviors[Number(id)], slowMs };
  const cluster = await startRaidaCluster({ count, seed, coins: originals, behavior: { latency: { medianMs: 2, sigma: 0.5 } }, behaviors });
  return { cluster, servers: cluster.servers, demoCoins: demo, close: () => cluster.close() };
}
