import type { XError } from '@x/errors';
import type { PoolEndpoint } from '@x/pool';
import { aggregateCategory } from '@x/rpc-strategies';
import type { ScatterOutcome } from '@x/rpc-strategies';
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

function ballotsOf(outcomes: ReadonlyArray<ScatterOutcome<Answer> | undefined>, final: boolean): Ballot[] {
  return outcomes.map((outcome): Ballot => {
    if (outcome === undefined) return { status: final ? 'unanswered' : 'pending' };
    if (outcome.ok) return { status: 'answered', value: outcome.value.value, slot: outcome.value.slot, latencyMs: outcome.latencyMs };
    return { status: outcome.aborted ? 'unanswered' : 'failed' };
  });
}

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
      : `${answered} of ${voters.length} endpoints answered (${failed.length} failed, ${unanswered.length} unanswered), ${verdict.required} agreeing answers are needed`;
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

/** Consensus: everyone chosen at once (scatter), votes counted as answers arrive, the rest cut once decided. */
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
  let chosen: ReadonlyArray<PoolEndpoint<string>> = [];
  // A vote needs voters: at least three endpoints (or the quorum), falling back on unavailable ones.
  const minCandidates = Math.min(Math.max(policy.quorum ?? 0, 3), endpoints.list.length, policy.maxCandidates ?? Number.POSITIVE_INFINITY);
  const outcomes = await pool.execute((candidate, attemptContext) => attemptOn(prepared, candidate, attemptContext.signal, false), {
    ...strategyOptions(context, prepared, attempts),
    strategy: 'scatter',
    minCandidates,
    onSelection: (selection) => {
      chosen = selection.endpoints;
    },
    stopWhen: (sofar) => tallySolanaVotes(ballotsOf(sofar, false), { ...tallyOptions, final: false }).kind !== 'wait',
  });
  const verdict = tallySolanaVotes(ballotsOf(outcomes, true), { ...tallyOptions, final: true });
  const voters = chosen.map((candidate) => endpoints.byId(candidate.id));
  const voteOf = (index: number): SolanaVote => {
    const endpoint = voters[index] as Endpoint;
    const outcome = outcomes[index];
    return { endpoint: endpoint.id, label: endpoint.label, slot: outcome?.ok === true ? outcome.value.slot : undefined, latencyMs: outcome?.latencyMs ?? 0 };
  };
  const failed: Array<Named & { error: XError; latencyMs: number }> = [];
  const unanswered: Named[] = [];
  outcomes.forEach((outcome, index) => {
    const endpoint = voters[index] as Endpoint;
    if (outcome === undefined || (!outcome.ok && outcome.aborted)) unanswered.push({ endpoint: endpoint.id, label: endpoint.label });
    else if (!outcome.ok) failed.push({ endpoint: endpoint.id, label: endpoint.label, error: outcome.error, latencyMs: outcome.latencyMs });
  });
  if (verdict.kind !== 'decided') throw noConsensus(prepared, verdict, voters, failed, unanswered);
  const consensus: SolanaConsensusReport = {
    quorum: verdict.required,
    agreed: verdict.agreed.map(voteOf),
    dissented: verdict.dissented.map(voteOf),
    abstained: verdict.abstained.map(voteOf),
    failed,
    unanswered,
  };
  const source = verdict.source === undefined ? undefined : (voters[verdict.source] as Endpoint).id;
  return callDetails<T>(prepared, started, attempts, { result: verdict.result, endpoint: source, slot: verdict.slot, consensus });
}
