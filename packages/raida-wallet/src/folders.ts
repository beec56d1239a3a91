import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { coinFileName } from './names.js';
import { decodeCoinFile } from './coin-file.js';
import type { WalletCoin } from './coin-file.js';
import { ioError, walletError } from './errors.js';
import { fsyncDirectory, writeCoinFile, writeFileAtomic } from './files.js';

/**
 * The folders of a wallet. Bank, Fracked, Import, Export, Receipts and Trash are mandatory in the CloudCoin layout;
 * Counterfeit and Limbo are where grading puts coins; Imported, Suspect and Pending complete the usual set
 * (Pending holds this wallet's fix journals).
 */
export const WALLET_FOLDERS = Object.freeze([
  'Bank',
  'Fracked',
  'Counterfeit',
  'Limbo',
  'Import',
  'Imported',
  'Export',
  'Suspect',
  'Pending',
  'Receipts',
  'Trash',
] as const);
export type WalletFolder = (typeof WALLET_FOLDERS)[number];
/** Folders whose coins belong to the wallet (Trash and Export do not). */
export const COIN_FOLDERS: readonly WalletFolder[] = Object.freeze(['Bank', 'Fracked', 'Counterfeit', 'Limbo', 'Import', 'Suspect']);

export const TRANSACTIONS_FILE = 'transactions.csv';
export const CONFIG_FILE = 'config.toml';
const TRANSACTIONS_HEADER = 'time,action,denomination,serial_number,from,to,detail\n';

/** One coin file of the wallet. */
export interface StoredCoin {
  readonly folder: WalletFolder;
  /** Full path of its file. */
  readonly path: string;
  readonly coin: WalletCoin;
  readonly mtimeMs: number;
}

/** A file in a coin folder that could not be read; it is left where it is. */
export interface WalletProblem {
  readonly path: string;
  readonly message: string;
}

export function coinKey(coin: { readonly denomination: number; readonly serialNumber: number }): string {
  return `${coin.denomination}:${coin.serialNumber}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates the folders and files a wallet needs, leaving whatever is already there. */
export async function ensureWalletLayout(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const folder of WALLET_FOLDERS) await mkdir(join(dir, folder), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw ioError('create the wallet folders in', dir, error);
  }
  if (!(await exists(join(dir, CONFIG_FILE))))
    await writeFileAtomic(join(dir, CONFIG_FILE), new TextEncoder().encode('# CloudCoin wallet\nformat = 9\n'));
  if (!(await exists(join(dir, TRANSACTIONS_FILE))))
    await writeFileAtomic(join(dir, TRANSACTIONS_FILE), new TextEncoder().encode(TRANSACTIONS_HEADER));
}

/** Throws `WALLET_NOT_A_WALLET` unless `dir` has transactions.csv, config.toml, Bank/ and Fracked/. */
export async function assertWallet(dir: string): Promise<void> {
  for (const part of [TRANSACTIONS_FILE, CONFIG_FILE, 'Bank', 'Fracked']) {
    if (!(await exists(join(dir, part)))) {
      throw walletError('WALLET_NOT_A_WALLET', 'config', `${dir} is not a wallet (no ${part}); import coins into it to create one`, {
        dir,
        missing: part,
      });
    }
  }
}

/** Every coin file of `folder`; unreadable files are reported, not thrown. Temporary files are skipped. */
async function readFolder(dir: string, folder: WalletFolder): Promise<{ coins: StoredCoin[]; problems: WalletProblem[] }> {
  const coins: StoredCoin[] = [];
  const problems: WalletProblem[] = [];
  let names: string[];
  try {
    names = await readdir(join(dir, folder));
  } catch (error) {
    throw ioError('list', join(dir, folder), error);
  }
  for (const name of names.sort()) {
    if (name.startsWith('.') || !name.endsWith('.bin')) continue;
    const path = join(dir, folder, name);
    try {
      const [bytes, info] = await Promise.all([readFile(path), stat(path)]);
      for (const coin of decodeCoinFile(new Uint8Array(bytes), path)) coins.push({ folder, path, coin, mtimeMs: info.mtimeMs });
    } catch (error) {
      problems.push({ path, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return { coins, problems };
}

/** Removes a file and makes the removal durable. A file already gone is fine. */
export async function removeFile(path: string, dir: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw ioError('remove', path, error);
  }
  await fsyncDirectory(dir);
}

/**
 * Saves `coin` as a one-coin file in `folder` and only then removes the copy at `previous` (when it is another
 * file): a crash in between leaves two copies, never none. `readWallet` keeps the newer one.
 */
export async function storeCoin(dir: string, folder: WalletFolder, coin: WalletCoin, previous?: string): Promise<string> {
  const path = join(dir, folder, coinFileName([coin]));
  await writeCoinFile(path, [coin]);
  if (previous !== undefined && previous !== path) await removeFile(previous, join(previous, '..'));
  return path;
}

/**
 * Every coin in the wallet's coin folders. When a coin is in two places (a crash between writing its new copy and
 * removing the old one), the copy with PANs wins (a pown or fix in flight), else the newer file; the other is moved
 * to Trash, never deleted.
 */
export async function readWallet(dir: string): Promise<{ coins: StoredCoin[]; problems: WalletProblem[] }> {
  const all: StoredCoin[] = [];
  const problems: WalletProblem[] = [];
  for (const folder of COIN_FOLDERS) {
    const read = await readFolder(dir, folder);
    all.push(...read.coins);
    problems.push(...read.problems);
  }
  const best = new Map<string, StoredCoin>();
  const losers: StoredCoin[] = [];
  for (const entry of all) {
    const key = coinKey(entry.coin);
    const other = best.get(key);
    if (other === undefined) {
      best.set(key, entry);
      continue;
    }
    const entryWins =
      (entry.coin.pans !== undefined) !== (other.coin.pans !== undefined) ? entry.coin.pans !== undefined : entry.mtimeMs > other.mtimeMs;
    best.set(key, entryWins ? entry : other);
    losers.push(entryWins ? other : entry);
  }
  for (const loser of losers) {
    const target = join(dir, 'Trash', `${Date.now()}-${loser.folder}-${loser.path.split(/[\\/]/).pop()!}`);
    try {
      await rename(loser.path, target);
    } catch (error) {
      problems.push({ path: loser.path, message: `duplicate copy could not be moved to Trash: ${String(error)}` });
    }
  }
  return { coins: [...best.values()], problems };
}

/** Appends one line to transactions.csv and makes it durable. */
export async function logTransaction(
  dir: string,
  entry: {
    readonly action: string;
    readonly coin?: { readonly denomination: number; readonly serialNumber: number };
    readonly from?: string;
    readonly to?: string;
    readonly detail?: string;
  },
  now: () => Date,
): Promise<void> {
  const cell = (value: string | number | undefined): string => {
    const text = value === undefined ? '' : String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const line = [now().toISOString(), entry.action, entry.coin?.denomination, entry.coin?.serialNumber, entry.from, entry.to, entry.detail]
    .map(cell)
    .join(',');
  const path = join(dir, TRANSACTIONS_FILE);
  try {
    const handle = await open(path, 'a', 0o600);
    try {
      await handle.write(`${line}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw ioError('append to', path, error);
  }
}
