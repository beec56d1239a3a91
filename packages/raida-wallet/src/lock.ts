import { hostname } from 'node:os';
import { join } from 'node:path';
import { open, readFile, unlink } from 'node:fs/promises';
import { ioError, walletError } from './errors.js';

/** The lock file of a wallet: one process at a time may import, heal or export. */
const LOCK_FILE = '.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Takes the wallet's lock for the duration of `work`. Two processes healing one wallet at once would each send fixes
 * with their own PAN generator and overwrite each other's journal, so a second one gets `WALLET_BUSY`. A lock left by
 * a process that no longer runs on this host (killed, crashed) is taken over.
 */
export async function withWalletLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const path = join(dir, LOCK_FILE);
  const mine = `${process.pid} ${hostname()}\n`;
  const busy = (message: string, pid?: number) =>
    walletError('WALLET_BUSY', 'config', message, { dir, ...(pid === undefined ? {} : { pid }) });
  const create = async (): Promise<boolean> => {
    let handle;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') return false;
      throw ioError('lock', path, error);
    }
    try {
      await handle.writeFile(mine);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  };
  if (!(await create())) {
    const [pid, host] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
    const owner = Number(pid);
    if (host !== undefined && host !== '' && host !== hostname()) {
      throw busy(`${dir} is locked by host ${host}; remove ${path} if no program there uses the wallet`);
    }
    if (Number.isInteger(owner) && owner > 0 && alive(owner))
      throw busy(`${dir} is in use by process ${owner}; wait for it to finish`, owner);
    // A stale lock: its process is gone (killed or crashed). Take it over.
    await unlink(path).catch(() => undefined);
    if (!(await create())) throw busy(`${dir} was just locked by another process; wait for it to finish`);
  }
  try {
    return await work();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
