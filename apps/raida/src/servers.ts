import { readFileSync, statSync } from 'node:fs';
import { isXError } from '@x/errors';
import { parseServerList } from '@x/raida-protocol';
import type { RaidaServer } from '@x/raida-protocol';
import { usageError } from './usage-error.js';

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * `--servers`: a file (one `host:port` per line, or JSON — see `parseServerList`) when a file of that
 * name exists, otherwise a comma list of `host:port` in RAIDA id order. Errors are one line.
 */
export function resolveServers(value: string): RaidaServer[] {
  if (isFile(value)) {
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      throw usageError(`--servers ${value}: cannot read the file (${error instanceof Error ? error.message : String(error)})`);
    }
    try {
      return parseServerList(text);
    } catch (error) {
      if (isXError(error)) throw usageError(`--servers ${value}: ${error.message}`);
      throw error;
    }
  }
  if (!value.includes(':')) {
    throw usageError(`--servers "${value}": no such file, and not a comma list of host:port`);
  }
  try {
    return parseServerList(value.split(',').join('\n'));
  } catch (error) {
    // The parser numbers lines; in a comma list they are entries, counted from 1.
    if (isXError(error, 'RAIDA_INVALID_SERVER_LIST')) {
      const { line, problem } = error.context;
      throw usageError(`--servers: ${line === undefined ? error.message : `entry ${line}: ${problem}`}`);
    }
    if (isXError(error)) throw usageError(`--servers: ${error.message}`);
    throw error;
  }
}
