import { isXError } from '@x/errors';
import type { AttemptContext } from '@x/errors';
import type { PoolEndpoint } from '@x/pool';
import { NULL_MEANS_NOT_YET } from './attempt.js';
import type { Answer, Prepared } from './attempt.js';
import { callDetails, notifyAccepted, strategyOptions } from './report.js';
import type { RunContext } from './report.js';
import type { SolanaAttemptReport, SolanaCallDetails } from './types.js';

/** race, hedge, dual, single: one winner. A null "not yet" fails over; if nobody has it, the result is null. */
export async function runSingleWinner<T>(context: RunContext, prepared: Prepared, started: number): Promise<SolanaCallDetails<T>> {
  const { pool, attemptOn } = context;
  const attempts: SolanaAttemptReport[] = [];
  const notYet = NULL_MEANS_NOT_YET.has(prepared.method);
  const attempt = (candidate: PoolEndpoint<string>, attemptContext: AttemptContext): Promise<Answer> =>
    attemptOn(prepared, candidate, attemptContext.signal, notYet);
  const { policy } = prepared;
  const base = strategyOptions(context, prepared, attempts);
  try {
    let winner: { value: Answer; candidate: PoolEndpoint<string> };
    switch (policy.strategy) {
      case 'hedge':
        winner = await pool.execute(attempt, {
          ...base,
          strategy: 'hedge',
          ...(policy.hedgeDelayMs === undefined ? {} : { hedgeDelayMs: policy.hedgeDelayMs }),
          maxAttempts: policy.maxAttempts,
        });
        break;
      case 'dual':
        winner = await pool.execute(attempt, { ...base, strategy: 'dual', across: policy.across });
        break;
      case 'single':
        winner = await pool.execute(attempt, { ...base, strategy: 'race', maxCandidates: 1 });
        break;
      default:
        winner = await pool.execute(attempt, { ...base, strategy: 'race' });
    }
    notifyAccepted(prepared, winner.candidate.id, winner.value.value, attempts);
    return callDetails<T>(prepared, started, attempts, {
      result: winner.value.value,
      endpoint: winner.candidate.id,
      slot: winner.value.slot,
    });
  } catch (error) {
    const nobodyHasIt =
      notYet &&
      isXError(error, ['STRATEGY_ALL_ATTEMPTS_FAILED', 'STRATEGY_DEADLINE_EXCEEDED']) &&
      error.context.failures.some((failure) => isXError(failure.error, 'SOLANA_NOT_YET'));
    if (nobodyHasIt) return callDetails<T>(prepared, started, attempts, { result: null, endpoint: undefined, slot: undefined });
    throw error;
  }
}
