import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decodeCoinFile, encodeCoinFile } from './coin-file.js';
import type { EncodeCoinFileOptions, WalletCoin } from './coin-file.js';
import { ioError } from './errors.js';

/** Flushes a folder so that a rename or removal in it is durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic there.
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a mix: the bytes go to a
 * temporary file in the same folder, which is fsynced and then renamed over `path`, and the folder is fsynced.
 * With `exclusive`, an existing `path` is never replaced (`WALLET_IO` with system code `EEXIST`).
 * Files are created with mode 0600: they are money.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, options: { readonly exclusive?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      // link() fails when the target exists, so an existing file is never replaced.
      await link(temp, path);
      await unlink(temp);
    } else {
      await rename(temp, path);
    }
    await fsyncDirectory(dir);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw ioError('write', path, error);
  }
}

/** Reads and decodes a format 9 file; errors name `path` (`WALLET_BAD_COIN_FILE`, `WALLET_IO`). */
export async function readCoinFile(path: string): Promise<WalletCoin[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw ioError('read', path, error);
  }
  return decodeCoinFile(bytes, path);
}

/** Encodes `coins` as a format 9 file and writes it atomically (see {@link writeFileAtomic}). */
export async function writeCoinFile(
  path: string,
  coins: readonly WalletCoin[],
  options: EncodeCoinFileOptions & { readonly exclusive?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(path, encodeCoinFile(coins, options), { exclusive: options.exclusive ?? false });
}
