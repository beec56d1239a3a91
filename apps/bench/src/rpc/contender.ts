/** One account to read, under both of its names: Solana base58 and the EVM address the cluster maps it to. */
export interface CallTarget {
  readonly solana: string;
  readonly evm: `0x${string}`;
}

/**
 * A library under test, reading balances from the simulated cluster. Values come back in lamports, so
 * every contender is judged against the same truth: EVM answers (wei = lamports × 10⁹) are divided by
 * 10⁹, and a wei amount that is not a whole number of lamports (only a lie makes one) becomes -1.
 */
export interface RpcContender {
  readonly name: string;
  readonly kind: 'ours' | 'baseline';
  /** The library settings, for the report. */
  readonly settings: string;
  getBalance(target: CallTarget): Promise<bigint>;
  /** Requests sent outside calls (viem's ranking pings), by endpoint URL, since the contender was made. */
  backgroundRequests?(): ReadonlyMap<string, number>;
  /** What the library itself reports after the run (ours: hedge budget, ejections), for the JSON file. */
  diagnostics?(): Record<string, unknown>;
  close(): Promise<void>;
}

const WEI_PER_LAMPORT = 1_000_000_000n;

export function lamportsOfWei(wei: bigint): bigint {
  return wei % WEI_PER_LAMPORT === 0n ? wei / WEI_PER_LAMPORT : -1n;
}

/** `items` rotated left by `by`: another endpoint order for contenders whose result depends on order. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const shift = ((by % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
