import { aggregateCategory } from '@x/rpc-strategies';
import type { PoolEndpoint } from '@x/pool';
import type { Prepared } from './attempt.js';
import { solanaError } from './errors.js';
import { callDetails, notifyAccepted, strategyOptions } from './report.js';
import type { RunContext } from './report.js';
import type { SolanaAttemptReport, SolanaBroadcastOutcome, SolanaCallDetails } from './types.js';

/** Every chosen endpoint exactly once; nothing is aborted early or sent again. The first success wins. */
export async function runBroadcast<T>(context: RunContext, prepared: Prepared, started: number): Promise<SolanaCallDetails<T>> {
  const { pool, endpoints, attemptOn } = context;
  const attempts: SolanaAttemptReport[] = [];
  let chosen: ReadonlyArray<PoolEndpoint<string>> = [];
  let first: { endpoint: string; value: unknown; slot: number | undefined; latencyMs: number } | undefined;
  const base = strategyOptions(context, prepared, attempts);
  const outcomes = await pool.execute((candidate, attemptContext) => attemptOn(prepared, candidate, attemptContext.signal, false), {
    ...base,
    strategy: 'scatter',
    onSelection: (selection) => {
      chosen = selection.endpoints;
    },
    onAttempt: (event) => {
      base.onAttempt(event);
      if (first !== undefined || !event.outcome.ok) return;
      first = {
        endpoint: event.candidate.id,
        value: event.outcome.value.value,
        slot: event.outcome.value.slot,
        latencyMs: event.outcome.latencyMs,
      };
      notifyAccepted(prepared, first.endpoint, first.value, attempts);
    },
  });
  const broadcast: SolanaBroadcastOutcome[] = outcomes.map((outcome, index) => {
    const endpoint = endpoints.byId((chosen[index] as PoolEndpoint<string>).id);
    return outcome.ok
      ? { endpoint: endpoint.id, label: endpoint.label, ok: true, value: outcome.value.value, latencyMs: outcome.latencyMs }
      : {
          endpoint: endpoint.id,
          label: endpoint.label,
          ok: false,
          error: outcome.error,
          latencyMs: outcome.latencyMs,
          aborted: outcome.aborted,
        };
  });
  if (first !== undefined)
    return callDetails<T>(prepared, started, attempts, { result: first.value, endpoint: first.endpoint, slot: first.slot, broadcast });
  const errors = broadcast.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
  const answeredErrors = broadcast.flatMap((outcome) => (outcome.ok || outcome.aborted ? [] : [outcome.error]));
  throw solanaError(
    'SOLANA_SEND_FAILED',
    answeredErrors.length === 0 ? 'timeout' : aggregateCategory(answeredErrors),
    `${prepared.method}: no endpoint accepted it (${broadcast.map((outcome) => `${outcome.endpoint}: ${outcome.ok ? 'ok' : outcome.error.code}`).join(', ')})`,
    { method: prepared.method, outcomes: broadcast },
    new AggregateError(errors, `${prepared.method}: every endpoint failed`),
  );
}
