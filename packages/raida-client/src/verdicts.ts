import type { CoinVerdict, CoinVote } from './types.js';

/** Counts of one coin's votes. `pending` are servers that may still vote. */
export interface VoteCount {
  readonly pass: number;
  readonly fail: number;
  readonly pending: number;
}

/**
 * The network's rule for one coin: `quorum` passes make it authentic (fracked when any server failed
 * it), `quorum` fails make it counterfeit, anything else is limbo. `quorum` is a strict majority, so
 * both thresholds cannot be met at once.
 */
export function coinVerdict(pass: number, fail: number, quorum: number): CoinVerdict {
  if (pass >= quorum) return fail > 0 ? 'fracked' : 'authentic';
  if (fail >= quorum) return 'counterfeit';
  return 'limbo';
}

/**
 * True when no pending vote can change whether the coin is authentic, counterfeit or in limbo:
 * either threshold is met, or neither can be met any more.
 */
export function isCoinSettled(count: VoteCount, quorum: number): boolean {
  if (count.pass >= quorum || count.fail >= quorum) return true;
  return count.pass + count.pending < quorum && count.fail + count.pending < quorum;
}

export function countVotes(votes: readonly CoinVote[]): { pass: number; fail: number; unknown: number } {
  let pass = 0;
  let fail = 0;
  for (const vote of votes) {
    if (vote === 'pass') pass++;
    else if (vote === 'fail') fail++;
  }
  return { pass, fail, unknown: votes.length - pass - fail };
}

/** Default quorum for `n` servers: a strict majority (13 of 25). */
export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Timeout of retry `attempt` (1-based): ×1.5 per retry, capped at 10 s (or at the base, when that is larger). */
export function retryTimeoutMs(baseMs: number, attempt: number): number {
  const cap = Math.max(RETRY_TIMEOUT_CAP_MS, baseMs);
  return Math.min(cap, baseMs * RETRY_TIMEOUT_FACTOR ** attempt);
}

export const RETRY_TIMEOUT_FACTOR = 1.5;
export const RETRY_TIMEOUT_CAP_MS = 10_000;

/**
 * Per-coin tallies for early finish, updated as a server's request for a slice of the coins becomes final: votes
 * only grow and pending only shrinks, so once a coin is settled it stays settled.
 */
export interface CoinTally {
  /** Counts a final request's votes (`verdicts[i]` for coin `offset + i`; missing = no vote). */
  record(offset: number, count: number, verdicts: readonly boolean[] | undefined): void;
  /** True once no vote still out could change any coin's verdict. */
  allSettled(): boolean;
}

export function createCoinTally(coinCount: number, serverCount: number, quorum: number): CoinTally {
  const coins = Array.from({ length: coinCount }, () => ({ pass: 0, fail: 0, pending: serverCount, settled: false }));
  let unsettled = coinCount;
  return {
    record(offset, count, verdicts) {
      for (let i = 0; i < count; i++) {
        const coin = coins[offset + i]!;
        coin.pending--;
        const verdict = verdicts?.[i];
        if (verdict === true) coin.pass++;
        else if (verdict === false) coin.fail++;
        if (!coin.settled && isCoinSettled(coin, quorum)) {
          coin.settled = true;
          unsettled--;
        }
      }
    },
    allSettled: () => unsettled === 0,
  };
}
