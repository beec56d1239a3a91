import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RaidaServer } from '@x/raida-protocol';
import { writeFileAtomic } from '@x/raida-wallet';
import type { WalletCoin } from '@x/raida-wallet';
import { createDemoCoins, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster, TestCoin } from '@x/testkit';
import { usageError } from './usage-error.js';

/** Where `--local` keeps the simulated RAIDA's coin tables, inside the wallet folder. */
const LOCAL_STATE_FILE = '.local-raida.json';
const DEMO_SEED = 1;

export interface LocalWalletRaida {
  readonly cluster: RaidaCluster;
  readonly servers: readonly RaidaServer[];
  /** Saves the coin tables and stops the servers. */
  close(): Promise<void>;
}

interface LocalState {
  readonly coins: readonly { readonly denomination: number; readonly serialNumber: number; readonly ans: readonly string[] }[];
}

/** The three coins the simulated RAIDA starts with, as its servers hold them. */
function demoOriginals(): TestCoin[] {
  return createDemoCoins(DEMO_SEED).originals;
}

/** The demo coins as a user receives them: one authentic, one fracked on RAIDA 5 and 20, one counterfeit. */
export function demoWalletCoins(): WalletCoin[] {
  return createDemoCoins(DEMO_SEED).demo.map(({ coin }) => ({
    denomination: coin.denomination,
    serialNumber: coin.serialNumber,
    ans: coin.ans,
    pown: 'u'.repeat(25),
  }));
}

async function loadState(path: string): Promise<TestCoin[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw usageError(`${path}: cannot read the simulated RAIDA's state (${String(error)})`);
  }
  try {
    const state = JSON.parse(text) as LocalState;
    return state.coins.map((coin) => ({
      denomination: coin.denomination,
      serialNumber: coin.serialNumber,
      ans: coin.ans.map((hex) => new Uint8Array(Buffer.from(hex, 'hex'))),
    }));
  } catch {
    throw usageError(`${path}: not a simulated RAIDA state file; delete it to start the simulated network afresh`);
  }
}

/**
 * A simulated 25-server RAIDA for the wallet commands: its coin tables come from the wallet's `.local-raida.json`
 * (the three demo coins when there is none) and are written back on close, so `import`, then `heal`, then `balance`
 * in separate runs see one network.
 */
export async function startLocalWalletRaida(walletDir: string): Promise<LocalWalletRaida> {
  const path = join(walletDir, LOCAL_STATE_FILE);
  const coins = (await loadState(path)) ?? demoOriginals();
  const cluster = await startRaidaCluster({ seed: DEMO_SEED, coins, behavior: { latency: { medianMs: 2, sigma: 0.5 } } });
  return {
    cluster,
    servers: cluster.servers,
    async close() {
      const state: LocalState = {
        coins: coins.map((coin) => ({
          denomination: coin.denomination,
          serialNumber: coin.serialNumber,
          ans: cluster.servers.map((server) => Buffer.from(cluster.getAn(server.id, coin) ?? new Uint8Array(16)).toString('hex')),
        })),
      };
      await cluster.close();
      await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(state)}\n`));
    },
  };
}
