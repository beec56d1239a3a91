import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRaidaClient } from '@x/raida-client';
import { fixedAn } from '@x/raida-protocol';
import { openWallet, readCoinFile } from '@x/raida-wallet';
import { createTestCoins, startRaidaCluster } from '@x/testkit';
import type { RaidaCluster, RaidaRequestEvent } from '@x/testkit';
import { startLocalWalletRaida } from '../src/local-wallet.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(args: readonly string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--conditions=@x/source', '--import', 'tsx', 'apps/raida/src/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

const raida = (args: readonly string[]): Promise<Run> => start(args).done;

let dir: string | undefined;
let cluster: RaidaCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  cluster = dir = undefined;
});

describe('raida wallet commands as processes', () => {
  it(
    '--local: import three coins, heal, balance shows two in Bank and one in Counterfeit; the healed coin passes on all 25',
    { timeout: 60_000 },
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'raida-wallet-'));
      const wallet = join(dir, 'W');
      const file = join(dir, 'three.bin');
      expect((await raida(['demo-coins', file, '--local'])).code).toBe(0);
      const imported = await raida(['import', file, '--local', '--wallet', wallet]);
      expect(imported.stderr).toBe('');
      expect(imported.stdout).toMatch(/→ Bank .*authentic/);
      expect(imported.stdout).toMatch(/→ Fracked +pppppfppppppppppppppfpppp/);
      expect(imported.stdout).toMatch(/→ Counterfeit/);
      const healed = await raida(['heal', '--local', '--wallet', wallet]);
      expect(healed.stdout).toMatch(/→ Bank +ppppppppppppppppppppppppp +healed/);
      expect(healed.code).toBe(0);
      const balance = await raida(['balance', '--local', '--wallet', wallet, '--json']);
      const folders = (JSON.parse(balance.stdout) as { folders: { folder: string; coins: number }[] }).folders;
      expect(Object.fromEntries(folders.map((f) => [f.folder, f.coins]))).toMatchObject({ Bank: 2, Fracked: 0, Counterfeit: 1, Limbo: 0 });

      // The same simulated network, from the wallet's state file: every Bank coin passes on all 25 servers.
      const local = await startLocalWalletRaida(wallet);
      const client = createRaidaClient({ servers: local.servers });
      const bank = (await (await openWallet({ dir: wallet, create: false })).list()).coins.filter((entry) => entry.folder === 'Bank');
      const detect = await client.detect(bank.map((entry) => entry.coin));
      await client.close();
      await local.close();
      expect(detect.coins.map((coin) => coin.pass)).toEqual([25, 25]);
    },
  );

  it(
    'a heal killed between sending a fix and writing its result loses nothing: the next heal resolves the coin with find',
    { timeout: 60_000 },
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'raida-kill-'));
      const wallet = join(dir, 'W');
      const file = join(dir, 'three.bin');
      const events: RaidaRequestEvent[] = [];
      const fixAnswered: ((event: RaidaRequestEvent) => void)[] = [];
      cluster = await startRaidaCluster({
        seed: 1,
        coins: createTestCoins(3, 1),
        // RAIDA 5 and 20 hold their validate_ticket replies to each other too: do not wait the real 32 s for them.
        healing: { peerTimeoutMs: 1000 },
        onRequest: (event) => {
          events.push(event);
          if (event.command === 'fix' && event.outcome === 'answered') fixAnswered.forEach((listener) => listener(event));
        },
      });
      const servers = join(dir, 'servers.txt');
      await writeFile(servers, cluster.serverList);
      expect((await raida(['demo-coins', file, '--local'])).code).toBe(0);
      expect((await raida(['import', file, '--servers', servers, '--wallet', wallet])).code).toBe(0);
      const fracked = (await readdir(join(wallet, 'Fracked')))[0]!;
      const before = (await readCoinFile(join(wallet, 'Fracked', fracked)))[0]!;

      // RAIDA 5 and 20 apply the fix at once but hold their replies; the process is killed before it hears them.
      cluster.setBehavior(5, { slowMs: 60_000 });
      cluster.setBehavior(20, { slowMs: 60_000 });
      const heal = start(['heal', '--servers', servers, '--wallet', wallet, '--timeout', '300']);
      const fixed = new Set<number>();
      await new Promise<void>((resolve) =>
        fixAnswered.push((event) => {
          fixed.add(event.raidaId);
          if (fixed.size === 2) resolve();
        }),
      );
      heal.child.kill('SIGKILL');
      const killed = await heal.done;
      expect(killed.code).toBeNull();

      const pending = await readdir(join(wallet, 'Pending'));
      expect(pending).toEqual([`${before.denomination}.${before.serialNumber}.fix.json`]);
      const after = (await readCoinFile(join(wallet, 'Fracked', fracked)))[0]!;
      expect(after.ans[20]).toEqual(before.ans[20]);
      // The servers hold ANs the coin file does not have yet: only the saved PG can recover them.
      expect(cluster.getAn(20, before)).not.toEqual(before.ans[20]);
      const journal = JSON.parse(await readFile(join(wallet, 'Pending', pending[0]!), 'utf8')) as { pg: string };
      expect(cluster.getAn(20, before)).toEqual(
        fixedAn(20, before.denomination, before.serialNumber, new Uint8Array(Buffer.from(journal.pg, 'hex'))),
      );

      cluster.setBehavior(5, { slowMs: 0 });
      cluster.setBehavior(20, { slowMs: 0 });
      const resumed = await raida(['heal', '--servers', servers, '--wallet', wallet]);
      expect(resumed.stdout).toMatch(/lost fix reply resolved with find/);
      expect(resumed.stdout).toMatch(/→ Bank +ppppppppppppppppppppppppp +healed/);
      expect(resumed.code).toBe(0);
      expect(await readdir(join(wallet, 'Pending'))).toEqual([]);
      const balance = await raida(['balance', '--servers', servers, '--wallet', wallet, '--json']);
      const folders = (JSON.parse(balance.stdout) as { folders: { folder: string; coins: number }[] }).folders;
      expect(Object.fromEntries(folders.map((f) => [f.folder, f.coins]))).toMatchObject({ Bank: 2, Fracked: 0, Counterfeit: 1 });
      const healedCoin = (await readCoinFile(join(wallet, 'Bank', fracked)))[0]!;
      const client = createRaidaClient({ servers: cluster.servers });
      const detect = await client.detect([healedCoin]);
      await client.close();
      expect(detect.coins[0]!.pass).toBe(25);
    },
  );

  it('a bad coin file is named in one line and never quoted', { timeout: 30_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'raida-bad-'));
    const file = join(dir, 'short.bin');
    await writeFile(file, new Uint8Array(100).fill(0xab));
    const run = await raida(['import', file, '--local', '--wallet', join(dir, 'W')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/short\.bin: not a format 9 coin file/);
    expect(run.stderr.toLowerCase()).not.toMatch(/abab/);
  });
});
