import type { Pool, PoolEndpoint } from '@x/pool';
import type { AttemptEvent } from '@x/rpc-strategies';
import { failsOver } from './attempt.js';
import type { Answer, AttemptOn, Prepared } from './attempt.js';
import type { Endpoints } from './endpoints.js';
import type { SolanaAttemptReport, SolanaBroadcastOutcome, SolanaCallDetails, SolanaConsensusReport } from './types.js';

/** What the three result builders (single winner, consensus, broadcast) run on. */
export interface RunContext {
  readonly pool: Pool<string>;
  readonly endpoints: Endpoints;
  readonly attemptOn: AttemptOn;
}

function attemptReport(endpoints: Endpoints, event: AttemptEvent<PoolEndpoint<string>, Answer>): SolanaAttemptReport {
  const endpoint = endpoints.byId(event.candidate.id);
  const outcome = event.outcome;
  return {
    endpoint: endpoint.id,
    label: endpoint.label,
    ok: outcome.ok,
    latencyMs: outcome.latencyMs,
    slot: outcome.ok ? outcome.value.slot : undefined,
    error: outcome.ok ? undefined : outcome.error,
    abortedAsLoser: event.abortedAsLoser,
  };
}

/** The options every strategy of a call shares: its timing, its signal, and the attempt log. */
export function strategyOptions(context: RunContext, prepared: Prepared, attempts: SolanaAttemptReport[]) {
  return {
    shouldFailover: failsOver,
    signal: prepared.signal,
    deadlineMs: prepared.policy.deadlineMs,
    attemptTimeoutMs: prepared.policy.attemptTimeoutMs,
    maxCandidates: prepared.policy.maxCandidates,
    // For credit budgets: the pool charges each attempt the method's cost.
    method: prepared.method,
    onAttempt: (event: AttemptEvent<PoolEndpoint<string>, Answer>) => {
      attempts.push(attemptReport(context.endpoints, event));
    },
  };
}

/** Tells `onAccepted` (sendTransaction) who accepted first; an observer's exception changes nothing. */
export function notifyAccepted(prepared: Prepared, endpoint: string, value: unknown, attempts: readonly SolanaAttemptReport[]): void {
  if (prepared.onAccepted === undefined) return;
  const latencyMs = attempts.find((attempt) => attempt.ok && attempt.endpoint === endpoint)?.latencyMs ?? 0;
  try {
    prepared.onAccepted({ signature: String(value), endpoint, latencyMs });
  } catch {
    // An observer must not change what was sent or how it is reported.
  }
}

export function callDetails<T>(
  prepared: Prepared,
  started: number,
  attempts: SolanaAttemptReport[],
  extra: {
    result: unknown;
    endpoint: string | undefined;
    slot: number | undefined;
    consensus?: SolanaConsensusReport;
    broadcast?: SolanaBroadcastOutcome[];
  },
): SolanaCallDetails<T> {
  return {
    result: extra.result as T,
    method: prepared.method,
    policy: prepared.policy,
    endpoint: extra.endpoint,
    slot: extra.slot,
    latencyMs: performance.now() - started,
    attempts,
    consensus: extra.consensus,
    broadcast: extra.broadcast as Array<SolanaBroadcastOutcome<T>> | undefined,
  };
}
