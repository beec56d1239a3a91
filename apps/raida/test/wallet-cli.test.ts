import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCoinFile } from '@x/raida-wallet';
import { createTestCoins, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster } from '@x/testkit';
import { runRaidaCli } from '../src/cli.js';
import { defaultWalletDir, parseWalletArgs } from '../src/wallet-cli.js';

let dir: string | undefined;
let cluster: RaidaCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = cluster = undefined;
});

function io(isTTY: boolean) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (chunk: string) => (out.stdout += chunk) },
      stderr: { write: (chunk: string) => (out.stderr += chunk) },
      isTTY,
      env: { NO_COLOR: '1' },
    },
  };
}

describe('raida wallet commands', () => {
  it('shows a progress line on a terminal while a fix waits; import, list and export a wallet', async () => {
    dir = await mkdtemp(join(tmpdir(), 'raida-cli-'));
    cluster = await startRaidaCluster({ seed: 1, coins: createTestCoins(3, 1), behaviors: { 20: { slowMs: 300 } } });
    const servers = join(dir, 'servers.txt');
    await writeFile(servers, cluster.serverList);
    const file = join(dir, 'three.bin');
    expect(await runRaidaCli(['demo-coins', file, '--local'], io(false).io)).toBe(0);
    const wallet = ['--wallet', join(dir, 'W'), '--servers', servers];
    const imported = io(false);
    expect(await runRaidaCli(['import', file, ...wallet], imported.io)).toBe(0);
    expect(imported.out.stderr).toBe('');
    const tty = io(true);
    expect(await runRaidaCli(['heal', ...wallet], tty.io)).toBe(0);
    expect(tty.out.stderr).toMatch(/heal: fixing coin #\d+ on RAIDA 5, 20: waiting for 2 servers \(0 s\)/);
    expect(tty.out.stderr.endsWith('\r\x1b[2K')).toBe(true);
    expect(tty.out.stdout).toMatch(/→ Bank .* healed/);

    const list = io(false);
    expect(await runRaidaCli(['list', '--wallet', join(dir, 'W'), '--json'], list.io)).toBe(0);
    const coins = (JSON.parse(list.out.stdout) as { coins: { folder: string; serialNumber: number }[] }).coins;
    const bank = coins.filter((coin) => coin.folder === 'Bank').map((coin) => String(coin.serialNumber));
    const exported = io(false);
    const out = join(dir, 'out.bin');
    expect(await runRaidaCli(['export', '--wallet', join(dir, 'W'), '--sn', bank[0]!, '--sn', bank[1]!, '--out', out], exported.io)).toBe(
      0,
    );
    expect(exported.out.stdout).toMatch(/2 coins exported/);
    expect((await readCoinFile(out)).map((coin) => String(coin.serialNumber))).toEqual(bank);
    expect(await readdir(join(dir, 'W', 'Bank'))).toEqual([]);
    const again = io(false);
    expect(await runRaidaCli(['export', '--wallet', join(dir, 'W'), '--sn', bank[0]!], again.io)).toBe(2);
    expect(again.out.stderr).toMatch(/No coin with serial number \d+ in Bank/);
  });

  it('checks its arguments in one line each', async () => {
    const usage = async (args: string[]) => {
      const run = io(false);
      const code = await runRaidaCli(args, run.io);
      return { code, stderr: run.out.stderr };
    };
    expect(await usage(['export', '--wallet', '/nonexistent'])).toEqual({
      code: 2,
      stderr: 'raida: export needs --sn <serial number> (repeat it for several coins); see raida list\n',
    });
    expect(await usage(['demo-coins', 'x.bin'])).toMatchObject({ code: 2 });
    expect(await usage(['heal', '--local', '--servers', 'a:1'])).toMatchObject({
      code: 2,
      stderr: 'raida: use either --servers or --local, not both\n',
    });
    expect(await usage(['balance', '--sn', '3'])).toMatchObject({ code: 2 });
    expect(parseWalletArgs(['heal'], { RAIDA_WALLET: '/w' }).wallet).toBe('/w');
  });

  it('keeps the wallet in the per-user data folder of each platform', () => {
    expect(defaultWalletDir({ XDG_DATA_HOME: '/data' }, 'linux')).toBe('/data/cloudcoin/Wallets/Default');
    expect(defaultWalletDir({}, 'darwin')).toMatch(/Library\/Application Support\/CloudCoin\/Wallets\/Default$/);
    expect(defaultWalletDir({ APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'win32')).toMatch(/CloudCoin.Wallets.Default$/);
  });
});
