import type { JsonRpcParams } from '@x/json-rpc';
import { describe, invalidRequest } from './errors.js';

export type SolanaCommitment = 'processed' | 'confirmed' | 'finalized';

const COMMITMENTS: readonly string[] = ['processed', 'confirmed', 'finalized'];

export function isCommitment(value: unknown): value is SolanaCommitment {
  return typeof value === 'string' && COMMITMENTS.includes(value);
}

/** Where each method takes its configuration object in `params` (Solana JSON-RPC specification). */
export const CONFIG_POSITION: Readonly<Record<string, number>> = Object.freeze({
  getAccountInfo: 1,
  getBalance: 1,
  getBlock: 1,
  getBlockHeight: 0,
  getBlockProduction: 0,
  getBlocks: 2,
  getBlocksWithLimit: 2,
  getEpochInfo: 0,
  getFeeForMessage: 1,
  getInflationGovernor: 0,
  getInflationReward: 1,
  getLargestAccounts: 0,
  getLatestBlockhash: 0,
  getLeaderSchedule: 1,
  getMinimumBalanceForRentExemption: 1,
  getMultipleAccounts: 1,
  getProgramAccounts: 1,
  getSignaturesForAddress: 1,
  getSlot: 0,
  getSlotLeader: 0,
  getStakeMinimumDelegation: 0,
  getSupply: 0,
  getTokenAccountBalance: 1,
  getTokenAccountsByDelegate: 2,
  getTokenAccountsByOwner: 2,
  getTokenLargestAccounts: 1,
  getTokenSupply: 1,
  getTransaction: 1,
  getTransactionCount: 0,
  getVoteAccounts: 0,
  isBlockhashValid: 1,
  requestAirdrop: 2,
  sendTransaction: 1,
  simulateTransaction: 1,
});

/** Methods whose configuration accepts `minContextSlot`. */
const MIN_CONTEXT_SLOT_METHODS: ReadonlySet<string> = new Set([
  'getAccountInfo',
  'getBalance',
  'getBlockHeight',
  'getEpochInfo',
  'getFeeForMessage',
  'getInflationReward',
  'getLatestBlockhash',
  'getMultipleAccounts',
  'getProgramAccounts',
  'getSignaturesForAddress',
  'getSlot',
  'getSlotLeader',
  'getTokenAccountsByDelegate',
  'getTokenAccountsByOwner',
  'getTransactionCount',
  'isBlockhashValid',
  'sendTransaction',
  'simulateTransaction',
]);

/** The configuration key that carries the commitment: `sendTransaction` calls it `preflightCommitment`. */
export function commitmentKey(method: string): string {
  return method === 'sendTransaction' ? 'preflightCommitment' : 'commitment';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks params and turns `@solana/kit`'s bigints (slots, lamports) within ±(2^53 − 1) into numbers,
 * so that the options this client reads from them (`minContextSlot`, the commitment) are plain
 * numbers. Larger bigints stay bigints: `@x/http-transport` writes them as exact JSON integers.
 */
export function toWireParams(params: unknown, method: string): JsonRpcParams | undefined {
  if (params === undefined) return undefined;
  if (!Array.isArray(params) && !isPlainObject(params)) {
    throw invalidRequest(`${method}: params must be an array or an object, got ${describe(params)}`, { method });
  }
  const seen = new Set<object>();
  const visit = (value: unknown, path: string): unknown => {
    if (typeof value === 'bigint') {
      return value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER) ? value : Number(value);
    }
    if (typeof value !== 'object' || value === null) return value;
    if (seen.has(value)) throw invalidRequest(`${method}: params contain a cycle at ${path}`, { method, path });
    seen.add(value);
    let out: unknown = value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item, index) => {
        const next = visit(item, `${path}[${index}]`);
        if (next !== item) copy ??= [...(value as unknown[])];
        if (copy !== undefined) copy[index] = next;
      });
      out = copy ?? value;
    } else if (isPlainObject(value)) {
      let copy: Record<string, unknown> | undefined;
      for (const [key, item] of Object.entries(value)) {
        const next = visit(item, `${path}.${key}`);
        if (next !== item) copy ??= { ...value };
        if (copy !== undefined) copy[key] = next;
      }
      out = copy ?? value;
    }
    seen.delete(value);
    return out;
  };
  return visit(params, 'params') as JsonRpcParams;
}

/** The config object of a call, if the method has one and the caller gave it. */
export function configOf(method: string, params: JsonRpcParams | undefined): Readonly<Record<string, unknown>> | undefined {
  const position = CONFIG_POSITION[method];
  if (position === undefined || !Array.isArray(params)) return undefined;
  const config: unknown = params[position];
  return isPlainObject(config) ? config : undefined;
}

/**
 * The commitment a call is answered at: the one in its config, else the node's default
 * (`finalized`). `undefined` for methods without a config object or with an unknown commitment,
 * whose answers then stay out of the slot watermark.
 */
export function commitmentOf(method: string, params: JsonRpcParams | undefined): SolanaCommitment | undefined {
  if (CONFIG_POSITION[method] === undefined) return undefined;
  const requested = configOf(method, params)?.[commitmentKey(method)];
  if (requested === undefined || requested === null) return 'finalized';
  return isCommitment(requested) ? requested : undefined;
}

/** Refuses `minContextSlot` for a method that does not take it (before there is a slot to send). */
export function checkMinContextSlotMethod(method: string): void {
  if (!MIN_CONTEXT_SLOT_METHODS.has(method)) throw invalidRequest(`${method} does not accept minContextSlot`, { method });
}

/** A copy of `params` with `patch` merged into the method's config object (created when absent). */
export function withConfig(
  method: string,
  params: JsonRpcParams | undefined,
  patch: Readonly<Record<string, unknown>>,
  option: string,
): JsonRpcParams {
  const position = CONFIG_POSITION[method];
  if (position === undefined)
    throw invalidRequest(
      `${method}: the ${option} option needs a method with a config object; this client does not know where ${method} takes one`,
      { method },
    );
  if (option === 'minContextSlot') checkMinContextSlotMethod(method);
  if (params !== undefined && !Array.isArray(params))
    throw invalidRequest(`${method}: the ${option} option needs params as an array`, { method });
  const next: unknown[] = params === undefined ? [] : Array.from(params as readonly unknown[]);
  // Optional positional parameters before the config (getBlocks' end slot…) are sent as null.
  while (next.length < position) next.push(null);
  const current = next[position];
  if (current !== undefined && current !== null && !isPlainObject(current)) {
    throw invalidRequest(`${method}: params[${position}] must be the config object to apply ${option}, got ${describe(current)}`, {
      method,
    });
  }
  next[position] = { ...(current ?? {}), ...patch };
  return next;
}
