import { isXError } from '@x/errors';
import type { ImportResult, PoolExport } from '@x/pool';
import { loadStateFile, saveStateFile } from '@x/solana-rpc';

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

const DEFAULT_STATE_MAX_AGE_MS = 15 * 60_000;
const DEFAULT_STATE_SAVE_EVERY_MS = 60_000;

/** How a restore went; never a reason not to start (the proxy then starts cold). */
export type RestoreOutcome =
  | { readonly kind: 'missing' }
  | { readonly kind: 'stale'; readonly ageMs: number }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'restored'; readonly ageMs: number; readonly imported: readonly string[]; readonly unknown: readonly string[] };

/**
 * Restores the pool's learned state (health, latency, error counts per endpoint) from `path`. A missing
 * file, one older than `maxAgeMs`, or one that is not a pool export is reported and changes nothing;
 * entries of endpoints that are no longer configured are skipped. `now` is the wall clock (ms).
 */
export async function restorePoolState(
  pool: WarmStartPool,
  path: string,
  maxAgeMs = DEFAULT_STATE_MAX_AGE_MS,
  now = Date.now(),
): Promise<RestoreOutcome> {
  let data: unknown;
  try {
    data = await loadStateFile(path);
  } catch (error) {
    return { kind: 'invalid', reason: isXError(error) ? error.message : 'the state file cannot be read' };
  }
  if (data === undefined) return { kind: 'missing' };
  const exportedAt = typeof data === 'object' && data !== null && 'exportedAt' in data ? data.exportedAt : undefined;
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
 * Writes the pool's state to `path` atomically, through `@x/solana-rpc`'s `saveStateFile` (temporary file,
 * fsync, rename, directory flushed). Rejects with `SOLANA_STATE_FILE` when the file cannot be written.
 */
export function savePoolState(pool: WarmStartPool, path: string): Promise<void> {
  return saveStateFile(path, pool.export());
}

export interface StateKeeper {
  /** Saves now (after any save in progress); rejects with `SOLANA_STATE_FILE` when it cannot. */
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

/** Restores the state file at start and tells the operator how it went (one line, never a secret). */
export async function restoreAtStart(pool: WarmStartPool, options: StateFileOptions, log: (line: string) => void): Promise<RestoreOutcome> {
  const { path, maxAgeMs = DEFAULT_STATE_MAX_AGE_MS } = options;
  const outcome = await restorePoolState(pool, path, maxAgeMs);
  const seconds = (ms: number): number => Math.round(ms / 1000);
  if (outcome.kind === 'restored')
    log(`state restored from ${path} (${seconds(outcome.ageMs)} s old): ${outcome.imported.join(', ') || 'no endpoint'}`);
  else if (outcome.kind === 'stale')
    log(`state file ${path} is ${seconds(outcome.ageMs)} s old, older than ${seconds(maxAgeMs)} s: starting cold`);
  else if (outcome.kind === 'invalid') log(`state file ${path} ignored, starting cold: ${outcome.reason}`);
  return outcome;
}
