import type { XError } from '@x/errors';
import type { PoolEndpoint } from '@x/pool';
import { aggregateCategory } from '@x/rpc-strategies';
import type { Ballot as EngineBallot, ConsensusTally } from '@x/rpc-strategies';
import { NULL_MEANS_NOT_YET } from './attempt.js';
import type { Answer, Prepared } from './attempt.js';
import type { Endpoint } from './endpoints.js';
import { solanaError } from './errors.js';
import { configOf } from './params.js';
import { callDetails, strategyOptions } from './report.js';
import type { RunContext } from './report.js';
import { tallySolanaVotes } from './tally.js';
import type { Ballot, Tally } from './tally.js';
import type { SolanaAttemptReport, SolanaCallDetails, SolanaConsensusReport, SolanaVote } from './types.js';

type Named = { readonly endpoint: string; readonly label: string };

function noConsensus(
  prepared: Prepared,
  verdict: Extract<Tally, { kind: 'failed' }>,
  voters: readonly Endpoint[],
  failed: ReadonlyArray<Named & { readonly error: XError }>,
  unanswered: readonly Named[],
): XError {
  const errors = failed.map((failure) => failure.error);
  let category: XError['category'];
  if (verdict.reason === 'disagreement') category = 'protocol';
  else if (unanswered.length > 0) category = 'timeout';
  else if (errors.length > 0) category = aggregateCategory(errors);
  else category = 'config';
  const idOf = (index: number): string => (voters[index] as Endpoint).id;
  const answered = verdict.groups.reduce((sum, group) => sum + group.indexes.length, 0) + verdict.abstained.length;
  const why =
    verdict.reason === 'disagreement'
      ? `the answers disagree (${verdict.groups.map((group) => group.indexes.length).join(' vs ')}) and none reached ${verdict.required}`
      : `${answered} of ${voters.length} endpoints answered (${failed.length} failed, ${unanswered.length} unanswered), ` +
        `${verdict.required} agreeing answers are needed`;
  return solanaError(
    'SOLANA_NO_CONSENSUS',
    category,
    `${prepared.method}: no consensus: ${why}`,
    {
      method: prepared.method,
      reason: verdict.reason,
      quorum: verdict.required,
      groups: verdict.groups.map((group) => ({ endpoints: group.indexes.map(idOf), slot: group.slot })),
      abstained: verdict.abstained.map(idOf),
      failures: failed.map((failure) => ({ endpoint: failure.endpoint, error: failure.error })),
      unanswered: unanswered.map((entry) => entry.endpoint),
      deadlineMs: prepared.policy.deadlineMs,
    },
    errors.length === 0 ? undefined : new AggregateError(errors, `${prepared.method}: failed attempts`),
  );
}

/** A vote's result before it becomes call details: the tally's verdict and who took part. */
interface VoteResult {
  readonly verdict: Extract<Tally, { kind: 'decided' }>;
  readonly consensus: SolanaConsensusReport;
  readonly source: string | undefined;
}

/** The engine's ballots as the slot-aware tally counts them; `pending` ones become `unanswered` once the vote is over. */
function solanaBallots(ballots: ReadonlyArray<EngineBallot<Answer>>, over: boolean): Ballot[] {
  return ballots.map((ballot): Ballot => {
    switch (ballot.status) {
      case 'answered':
        return { status: 'answered', value: ballot.value.value, slot: ballot.value.slot, latencyMs: ballot.latencyMs };
      case 'failed':
        return { status: 'failed' };
      case 'unanswered':
        return { status: 'unanswered' };
      default:
        return { status: over ? 'unanswered' : 'pending' };
    }
  });
}

/**
 * Consensus through `consensus` of `@x/rpc-strategies`, counted by the slot-aware tally (`tallySolanaVotes`):
 * everyone chosen is asked at once, the tally is asked after every answer, and the call ends as soon as it
 * decides or can no longer decide (the early no-consensus cut); the rest are cut as losers. The watermark
 * checks (stale answers, endpoints far ahead: suspects) stay in the attempt, so a refused answer is a failed ballot.
 */
export async function runConsensus<T>(context: RunContext, prepared: Prepared, started: number): Promise<SolanaCallDetails<T>> {
  const { pool, endpoints, attemptOn } = context;
  const attempts: SolanaAttemptReport[] = [];
  const { method, policy } = prepared;
  const listLimit = method === 'getSignaturesForAddress' ? Number(configOf(method, prepared.params)?.limit) || 1000 : 1000;
  const tallyOptions = {
    comparison: method === 'getSignaturesForAddress' ? ('signature-list' as const) : ('value' as const),
    abstainOnNull: NULL_MEANS_NOT_YET.has(method),
    quorum: policy.quorum,
    listLimit,
  };
  const tally: ConsensusTally<PoolEndpoint<string>, Answer, VoteResult> = {
    decide: (input) => {
      if (tallySolanaVotes(solanaBallots(input.ballots, false), { ...tallyOptions, final: input.final }).kind === 'wait')
        return { kind: 'wait' };
      // Decided (or undecidable): counted once more as the vote is left, every answer still running cut.
      const verdict = tallySolanaVotes(solanaBallots(input.ballots, true), { ...tallyOptions, final: true });
      const voters = input.candidates.map((candidate) => endpoints.byId(candidate.id));
      const failed: Array<Named & { error: XError; latencyMs: number }> = [];
      const unanswered: Named[] = [];
      input.ballots.forEach((ballot, index) => {
        const endpoint = voters[index] as Endpoint;
        if (ballot.status === 'failed')
          failed.push({ endpoint: endpoint.id, label: endpoint.label, error: ballot.error, latencyMs: ballot.latencyMs });
        else if (ballot.status !== 'answered') unanswered.push({ endpoint: endpoint.id, label: endpoint.label });
      });
      if (verdict.kind !== 'decided') return { kind: 'failed', error: noConsensus(prepared, verdict, voters, failed, unanswered) };
      const voteOf = (index: number): SolanaVote => {
        const endpoint = voters[index] as Endpoint;
        const ballot = input.ballots[index];
        const answered = ballot?.status === 'answered' ? ballot : undefined;
        return { endpoint: endpoint.id, label: endpoint.label, slot: answered?.value.slot, latencyMs: answered?.latencyMs ?? 0 };
      };
      const consensus: SolanaConsensusReport = {
        quorum: verdict.required,
        agreed: verdict.agreed.map(voteOf),
        dissented: verdict.dissented.map(voteOf),
        abstained: verdict.abstained.map(voteOf),
        failed,
        unanswered,
      };
      return {
        kind: 'decided',
        verdict: { verdict, consensus, source: verdict.source === undefined ? undefined : (voters[verdict.source] as Endpoint).id },
      };
    },
  };
  // A vote needs voters: at least three endpoints (or the quorum), falling back on unavailable ones.
  const minCandidates = Math.min(Math.max(policy.quorum ?? 0, 3), endpoints.list.length, policy.maxCandidates ?? Number.POSITIVE_INFINITY);
  const { verdict, consensus, source } = await pool.execute(
    (candidate, attemptContext) => attemptOn(prepared, candidate, attemptContext.signal, false),
    {
      ...strategyOptions(context, prepared, attempts),
      // Every failure is one failed ballot, never the end of the vote: the tally decides when it is over.
      shouldFailover: () => true,
      strategy: 'consensus',
      tally,
      minCandidates,
    },
  );
  return callDetails<T>(prepared, started, attempts, { result: verdict.result, endpoint: source, slot: verdict.slot, consensus });
}
