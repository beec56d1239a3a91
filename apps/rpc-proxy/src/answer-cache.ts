import { isPlainObject } from '@x/errors';
import { stringifyJson } from '@x/json-rpc';
import type { JsonRpcParams } from '@x/json-rpc';
import { CONFIG_POSITION } from '@x/solana-rpc';
import { LRUCache } from 'lru-cache';
import type { CacheLimits } from './config.js';

/**
 * Methods whose answer at `finalized` commitment can never change once it is not `null`: a finalized
 * transaction or block is final. (`null` means "not there yet", which does change.)
 */
const FINAL_METHODS: ReadonlySet<string> = new Set(['getTransaction', 'getBlock']);

/** Whether a call asks for something final: a final method at `finalized`, said or implied (the nodes' default commitment). */
export function asksForFinal(method: string, params: JsonRpcParams | undefined): boolean {
  if (!FINAL_METHODS.has(method) || !Array.isArray(params)) return false;
  const config: unknown = params[CONFIG_POSITION[method] ?? 1];
  if (config === undefined || config === null) return true;
  if (!isPlainObject(config)) return false;
  return config.commitment === undefined || config.commitment === 'finalized';
}

interface Entry {
  readonly value: unknown;
  readonly bytes: number;
}

export interface AnswerCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
}

/** Answers that can never change, by call key, bounded in entries and in bytes (least recently used first out). */
export interface AnswerCache {
  /** The cached result of a call, or `undefined`; counts a hit or a miss. */
  get(key: string): { readonly value: unknown } | undefined;
  /** Keeps a non-null result (one larger than `maxBytes` alone is not kept). */
  set(key: string, value: unknown): void;
  stats(): AnswerCacheStats;
}

export function createAnswerCache(limits: CacheLimits): AnswerCache {
  const lru = new LRUCache<string, Entry>({
    max: limits.maxEntries,
    maxSize: limits.maxBytes,
    maxEntrySize: limits.maxBytes,
    // The key is stored too: it holds the params (a getBlock key is short, a getTransaction key ~150 bytes).
    sizeCalculation: (entry, key) => entry.bytes + key.length,
  });
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const entry = lru.get(key);
      if (entry === undefined) {
        misses += 1;
        return undefined;
      }
      hits += 1;
      return { value: entry.value };
    },
    set(key, value) {
      if (value === null || value === undefined) return;
      const text = stringifyJson(value);
      if (text === undefined) return;
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes + key.length > limits.maxBytes) return;
      lru.set(key, { value, bytes });
    },
    stats: () => ({ hits, misses, entries: lru.size, bytes: lru.calculatedSize }),
  };
}
