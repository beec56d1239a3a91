import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { XError, isXError } from '@x/errors';
import type { ImportResult, PoolExport } from '@x/pool';

/** What the state file needs of the pool: its warm-start pair (`@x/pool`'s `export()` / `import()`). */
export interface WarmStartPool {
  export(): PoolExport;
  import(data: unknown): ImportResult;
}

export interface StateFileOptions {
  /** Where the pool's learned state is kept between runs. */
  readonly path: string;
  /** A file older than this (by its `exportedAt`) is ignored at start: the endpoints may have changed since. Default 15 minutes. */
  readonly maxAgeMs?: number;
  /** How often the state is saved while running (besides at shutdown). Default 60 000. */
  readonly saveEveryMs?: number;
}

export const DEFAULT_STATE_MAX_AGE_MS = 15 * 60_000;
export const DEFAULT_STATE_SAVE_EVERY_MS = 60_000;

/** How a restore went; never a reason not to start (the proxy then starts cold). */
export type RestoreOutcome =
  | { readonly kind: 'missing' }
  | { readonly kind: 'stale'; readonly ageMs: number }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'restored'; readonly ageMs: number; readonly imported: readonly string[]; readonly unknown: readonly string[] };

function stateError(message: string, path: string, cause?: unknown): XError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new XError({
    code: 'PROXY_STATE_FILE',
    category: 'config',
    message: `${message} ${path}${code === undefined ? '' : `: ${code}`}`,
    context: { path, ...(code === undefined ? {} : { causeCode: code }) },
    cause,
  });
}

/**
 * Restores the pool's learned state (health, latency, error counts per endpoint) from `path`. A missing
 * file, one older than `maxAgeMs`, or one that is not a pool export is reported and changes nothing;
 * entries of endpoints that are no longer configured are skipped. `now` is the wall clock (ms).
 */
export async function restorePoolState(pool: WarmStartPool, path: string, maxAgeMs = DEFAULT_STATE_MAX_AGE_MS, now = Date.now()): Promise<RestoreOutcome> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: stateError('cannot read the state file', path, error).message };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'the state file is not JSON' };
  }
  const exportedAt = (data as { exportedAt?: unknown } | null)?.exportedAt;
  if (typeof exportedAt === 'number' && Number.isFinite(exportedAt)) {
    const ageMs = Math.max(0, now - exportedAt);
    if (ageMs > maxAgeMs) return { kind: 'stale', ageMs };
  }
  try {
    const result = pool.import(data);
    return { kind: 'restored', ageMs: Math.max(0, now - (exportedAt as number)), imported: result.imported, unknown: result.unknown };
  } catch (error) {
    return { kind: 'invalid', reason: isXError(error) ? error.message : 'the state file is not a pool export' };
  }
}

/**
 * Writes the pool's state to `path` atomically: a temporary file in the same directory, flushed to disk
 * (fsync), then renamed over `path`, and the directory flushed. A crash leaves the old file or the new one,
 * never half of one. Rejects with `PROXY_STATE_FILE` when the file cannot be written.
 */
export async function savePoolState(pool: WarmStartPool, path: string): Promise<void> {
  const text = `${JSON.stringify(pool.export())}\n`;
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw stateError('cannot write the state file', path, error);
  }
  // The rename itself is durable only once the directory is flushed; some file systems refuse to open one.
  const dir = await open(directory, 'r').catch(() => undefined);
  if (dir !== undefined) {
    await dir.sync().catch(() => undefined);
    await dir.close();
  }
}

export interface StateKeeper {
  /** Saves now (after any save in progress); rejects with `PROXY_STATE_FILE` when it cannot. */
  save(): Promise<void>;
  /** Stops the periodic save and saves one last time. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Saves the pool's state every `saveEveryMs` (failures go to `log`, the next tick tries again) and
 * once more on `stop()`. Saves never overlap. The timer does not keep the process alive.
 */
export function createStateKeeper(pool: WarmStartPool, options: StateFileOptions, log: (line: string) => void): StateKeeper {
  const everyMs = options.saveEveryMs ?? DEFAULT_STATE_SAVE_EVERY_MS;
  let last: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    const next = last.catch(() => undefined).then(() => savePoolState(pool, options.path));
    last = next;
    return next;
  };
  const timer = setInterval(() => {
    save().catch((error: unknown) => log(error instanceof Error ? error.message : String(error)));
  }, everyMs);
  timer.unref();
  let stopped: Promise<void> | undefined;
  return {
    save,
    stop: () => {
      stopped ??= (async () => {
        clearInterval(timer);
        await save();
      })();
      return stopped;
    },
  };
}
