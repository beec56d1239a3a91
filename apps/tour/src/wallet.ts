import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatServerAddress } from '@x/raida-protocol';
import { openWallet, writeCoinFile } from '@x/raida-wallet';
import { createTestCoins, startRaidaCluster } from '@x/testkit';
import { raida } from './raida-cli.js';
import { heading, say } from './tour.js';
import type { TourOutput } from './tour.js';

/**
 * Part 2: a CloudCoin wallet on the simulated RAIDA. Three coins arrive in one format 9 file; `raida import` takes
 * ownership of them, `raida heal` fixes the fracked one (tickets from the 23 servers that pass it, then a fix on the
 * two that fail it), and a detect shows the healed coin passing on all 25 servers.
 */
export async function walletTour(out: TourOutput): Promise<void> {
  heading(out, 'A CloudCoin wallet: import, a fracked coin healed, balance');
  const dir = await mkdtemp(join(tmpdir(), 'raida-tour-wallet-'));
  // The same seed as `raida --local`, so the demo coin file matches the servers' tables.
  const cluster = await startRaidaCluster({ seed: 1, coins: createTestCoins(3, 1), behavior: { latency: { medianMs: 2, sigma: 0.5 } } });
  const servers = cluster.servers.map(formatServerAddress).join(',');
  const wallet = join(dir, 'Wallet');
  const file = join(dir, "30 CloudCoin #3 'demo'.bin");
  const run = (args: readonly string[], shown: string): Promise<void> => raida(out, [...args, '--servers', servers], shown);
  try {
    say(out, `A wallet folder (Bank, Fracked, Counterfeit, Limbo, Import, …) and a format 9 file of three coins: one authentic,`);
    say(out, `one whose ANs are wrong on RAIDA 5 and 20 (fracked), and one counterfeit.`);
    await raida(out, ['demo-coins', file, '--local'], '');
    await run(['import', file, '--wallet', wallet], `import "${file.split('/').pop()!}"`);
    say(
      out,
      `Each coin was detected, saved in Limbo with fresh random ANs, powned to them (only this wallet knows them now), and filed by its pown string.`,
    );

    await run(['heal', '--wallet', wallet], 'heal');
    say(
      out,
      `Healing asked every server for a ticket, saved a fresh PAN generator with the tickets before sending the fix to RAIDA 5 and 20,`,
    );
    say(out, `and set the new ANs there to MD5(raida ‖ den ‖ SN ‖ PG), as each server computed them after 13 peers vouched for the coin.`);

    await run(['balance', '--wallet', wallet], 'balance');

    const healed = (await (await openWallet({ dir: wallet, create: false })).list()).coins.filter((entry) => entry.folder === 'Bank');
    const bank = join(dir, 'bank.bin');
    await writeCoinFile(
      bank,
      healed.map((entry) => entry.coin),
    );
    say(out, `\nThe two Bank coins, copied to one coin file with the ANs in their files, detected again:`);
    await run(['detect', '--coins', bank, '--timeout', '1000'], 'detect --coins bank.bin');
    say(
      out,
      `\nTry it: pnpm raida demo-coins three.bin --local · pnpm raida import three.bin --local --wallet /tmp/w · pnpm raida heal --local --wallet /tmp/w`,
    );
  } finally {
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  }
}
