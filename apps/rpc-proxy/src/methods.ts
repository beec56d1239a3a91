import { WRITE_METHODS } from '@x/solana-rpc';

/**
 * The Solana HTTP JSON-RPC methods forwarded by default (https://solana.com/docs/rpc/http). Anything
 * else gets -32601 unless the configuration allows it (`allowMethods`, a `methods` entry, or
 * `allowAnyMethod`): a proxy holding paid provider keys should not relay arbitrary names to them.
 * Deprecated methods are left out, and so is `requestAirdrop` (a write that only test clusters serve).
 */
export const DEFAULT_ALLOWED_METHODS: readonly string[] = Object.freeze([
  'getAccountInfo',
  'getBalance',
  'getBlock',
  'getBlockCommitment',
  'getBlockHeight',
  'getBlockProduction',
  'getBlockTime',
  'getBlocks',
  'getBlocksWithLimit',
  'getClusterNodes',
  'getEpochInfo',
  'getEpochSchedule',
  'getFeeForMessage',
  'getFirstAvailableBlock',
  'getGenesisHash',
  'getHealth',
  'getHighestSnapshotSlot',
  'getIdentity',
  'getInflationGovernor',
  'getInflationRate',
  'getInflationReward',
  'getLargestAccounts',
  'getLatestBlockhash',
  'getLeaderSchedule',
  'getMaxRetransmitSlot',
  'getMaxShredInsertSlot',
  'getMinimumBalanceForRentExemption',
  'getMultipleAccounts',
  'getProgramAccounts',
  'getRecentPerformanceSamples',
  'getRecentPrioritizationFees',
  'getSignatureStatuses',
  'getSignaturesForAddress',
  'getSlot',
  'getSlotLeader',
  'getSlotLeaders',
  'getStakeMinimumDelegation',
  'getSupply',
  'getTokenAccountBalance',
  'getTokenAccountsByDelegate',
  'getTokenAccountsByOwner',
  'getTokenLargestAccounts',
  'getTokenSupply',
  'getTransaction',
  'getTransactionCount',
  'getVersion',
  'getVoteAccounts',
  'isBlockhashValid',
  'minimumLedgerSlot',
  'sendTransaction',
  'simulateTransaction',
]);

/**
 * The forwarded-by-default methods that only read, never change anything: identical calls of these in flight at the same
 * moment may share one upstream call. Writes (`sendTransaction`, `WRITE_METHODS` of `@x/solana-rpc`) and methods outside
 * this list (an allowed unknown method may be a write) are never shared.
 */
export const READ_METHODS: ReadonlySet<string> = new Set(DEFAULT_ALLOWED_METHODS.filter((method) => !WRITE_METHODS.has(method)));
