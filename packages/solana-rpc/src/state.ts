import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isXError } from '@x/errors';
import type { XError } from '@x/errors';
import type { ImportResult, Pool, PoolExport } from '@x/pool';
import { describe, invalidOptions, solanaError } from './errors.js';

/** Default of `state.maxAgeMs`: a saved state older than this says nothing about the endpoints now. */
export const DEFAULT_STATE_MAX_AGE_MS = 10 * 60_000;

export interface SolanaStateOptions {
  /** A `client.exportState()` (`pool.export()`) document to start from, e.g. from `loadStateFile`. `undefined`: start fresh. */
  readonly restore?: unknown;
  /** A saved state older than this (by its `exportedAt`) is not restored. Default 600 000 ms (`DEFAULT_STATE_MAX_AGE_MS`). */
  readonly maxAgeMs?: number;
}

/** What happened to `state.restore` when the client was created. */
export type SolanaStateRestore =
  | { readonly restored: true; readonly imported: readonly string[]; readonly unknown: readonly string[]; readonly ageMs: number }
  | { readonly restored: false; readonly reason: 'none' | 'too-old' | 'invalid'; readonly ageMs?: number; readonly error?: XError };

export function checkStateOptions(state: unknown): SolanaStateOptions {
  if (state === undefined) return {};
  if (typeof state !== 'object' || state === null || Array.isArray(state))
    throw invalidOptions('state', `must be an object { restore?, maxAgeMs? }, got ${describe(state)}`);
  for (const key of Object.keys(state))
    if (key !== 'restore' && key !== 'maxAgeMs') throw invalidOptions(`state.${key}`, 'is not a known option');
  const { maxAgeMs } = state as SolanaStateOptions;
  if (maxAgeMs !== undefined && !(typeof maxAgeMs === 'number' && Number.isFinite(maxAgeMs) && maxAgeMs >= 0)) {
    throw invalidOptions('state.maxAgeMs', `must be a number of milliseconds >= 0, got ${describe(maxAgeMs)}`);
  }
  return state;
}

/**
 * Restores a saved pool state: nothing when there is none, when it is older than `maxAgeMs`, or when it
 * is not a valid export (a corrupt file must not keep a client from starting); otherwise `pool.import`,
 * which ages every ejection and cool-down by the time since the export and ignores unknown endpoints.
 */
export function restoreState(pool: Pool<string>, options: SolanaStateOptions, wallNow: () => number): SolanaStateRestore {
  const data = options.restore;
  if (data === undefined || data === null) return { restored: false, reason: 'none' };
  const exportedAt = (data as { exportedAt?: unknown }).exportedAt;
  const ageMs = typeof exportedAt === 'number' ? Math.max(0, wallNow() - exportedAt) : undefined;
  if (ageMs !== undefined && ageMs > (options.maxAgeMs ?? DEFAULT_STATE_MAX_AGE_MS)) return { restored: false, reason: 'too-old', ageMs };
  let result: ImportResult;
  try {
    result = pool.import(data);
  } catch (error) {
    if (!isXError(error)) throw error;
    return { restored: false, reason: 'invalid', error };
  }
  return { restored: true, imported: result.imported, unknown: result.unknown, ageMs: ageMs ?? 0 };
}

function stateFileError(message: string, path: string, cause: unknown): XError {
  return solanaError('SOLANA_STATE_FILE', 'config', message, { file: basename(path) }, cause);
}

/**
 * Writes `state` (e.g. `client.exportState()`) to `path` atomically: into a temporary file next to it,
 * flushed to disk, then renamed over `path`, so a crash mid-write never leaves a truncated state file.
 */
export async function saveStateFile(path: string, state: PoolExport): Promise<void> {
  if (typeof path !== 'string' || path === '') throw invalidOptions('path', `must be a non-empty string, got ${describe(path)}`);
  const text = `${JSON.stringify(state)}\n`;
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
    throw stateFileError(`Could not save the state file ${basename(path)}: ${(error as Error).message}`, path, error);
  }
  // The rename itself is durable only once the directory is flushed; some file systems refuse to open one.
  const directory = await open(dirname(path), 'r').catch(() => undefined);
  if (directory !== undefined) {
    await directory.sync().catch(() => undefined);
    await directory.close();
  }
}

/** Reads a state file written by `saveStateFile`: its JSON, or `undefined` when there is no such file. */
export async function loadStateFile(path: string): Promise<unknown> {
  if (typeof path !== 'string' || path === '') throw invalidOptions('path', `must be a non-empty string, got ${describe(path)}`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw stateFileError(`Could not read the state file ${basename(path)}: ${(error as Error).message}`, path, error);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw stateFileError(`The state file ${basename(path)} is not JSON`, path, error);
  }
}
