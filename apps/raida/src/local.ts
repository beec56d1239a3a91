import type { RaidaCoin } from '@x/raida-client';
import type { RaidaServer } from '@x/raida-protocol';
import { counterfeitCoin, createTestCoins, frackCoin, startRaidaCluster } from '@x/testkit';
import type { RaidaBehaviorPatch, RaidaCluster } from '@x/testkit';

export interface LocalRaidaOptions {
  /** Seed of the cluster's latency draws and of the demo coins. Default 1. */
  readonly seed?: number;
  /** RAIDA ids that never answer. Default none. */
  readonly silent?: readonly number[];
  /** RAIDA ids that answer only after this many extra ms: `{ 3: 1500 }`. Default none. */
  readonly slow?: Readonly<Record<number, number>>;
  /** Servers in the cluster. Default 25. */
  readonly count?: number;
}

export interface DemoCoin {
  readonly label: 'authentic' | 'fracked' | 'counterfeit';
  readonly coin: RaidaCoin;
}

export interface LocalRaida {
  readonly cluster: RaidaCluster;
  readonly servers: readonly RaidaServer[];
  /** Three coins as a wallet holds them: one authentic, one fracked (on {@link FRACKED_ON}), one counterfeit. */
  readonly demoCoins: readonly DemoCoin[];
  close(): Promise<void>;
}

/** The servers on which the demo's fracked coin holds a different AN than the wallet's. */
export const FRACKED_ON: readonly number[] = [5, 20];

/**
 * A simulated RAIDA on 127.0.0.1 (from `@x/testkit`): a few ms of seeded latency per reply, the three
 * demo coins in its coin table, and the given servers silent or slow.
 */
export async function startLocalRaida(options: LocalRaidaOptions = {}): Promise<LocalRaida> {
  const seed = options.seed ?? 1;
  const count = options.count ?? 25;
  const [good, fracked, fake] = createTestCoins(3, seed, { raidaCount: count });
  const behaviors: Record<number, RaidaBehaviorPatch> = {};
  for (const id of options.silent ?? []) behaviors[id] = { down: true };
  for (const [id, slowMs] of Object.entries(options.slow ?? {})) behaviors[Number(id)] = { ...behaviors[Number(id)], slowMs };
  const cluster = await startRaidaCluster({
    count,
    seed,
    coins: [good!, fracked!, fake!],
    behavior: { latency: { medianMs: 2, sigma: 0.5 } },
    behaviors,
  });
  const demoCoins: DemoCoin[] = [
    { label: 'authentic', coin: good! },
    { label: 'fracked', coin: frackCoin(fracked!, FRACKED_ON.filter((id) => id < count)) },
    { label: 'counterfeit', coin: counterfeitCoin(fake!) },
  ];
  return { cluster, servers: cluster.servers, demoCoins, close: () => cluster.close() };
}
