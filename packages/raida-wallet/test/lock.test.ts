import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openWallet } from '@x/raida-wallet';
import type { WalletNetwork } from '@x/raida-wallet';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A network that is never reached: the wallets below have nothing to heal, or are refused before. */
const idle = { client: { servers: [] }, healer: {} } as unknown as WalletNetwork;

describe('the wallet lock', () => {
  it('refuses a second heal while one runs, and is released afterwards', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wallet-lock-'));
    const wallet = await openWallet({ dir });
    await writeFile(join(dir, '.lock'), `${process.ppid} ${hostname()}\n`);
    await expect(wallet.heal(idle)).rejects.toMatchObject({ code: 'WALLET_BUSY', context: { pid: process.ppid } });
    await rm(join(dir, '.lock'));
    await expect(wallet.heal(idle)).resolves.toEqual({ coins: [], problems: [] });
    expect((await readdir(dir)).includes('.lock')).toBe(false);
  });

  it('takes over a lock left by a process that was killed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wallet-lock-'));
    const wallet = await openWallet({ dir });
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(join(dir, '.lock'), `${gone.stdout} ${hostname()}\n`);
    await expect(wallet.heal(idle)).resolves.toEqual({ coins: [], problems: [] });
    expect((await readdir(dir)).includes('.lock')).toBe(false);
  });
});
