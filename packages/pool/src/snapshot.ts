import type { ErrorCategory } from '@x/errors';
import { failureRate, isOut } from './endpoint.js';
import type { EjectionReason, EndpointState, HealthState } from './endpoint.js';
import type { EndpointRole, ResolvedSettings } from './options.js';
import { classifyRoles, rankAll } from './selection.js';
import { streamStatistics } from './stream.js';
import type { StreamStatistics } from './stream.js';
import { ATTEMPT_RESULTS } from './window.js';
import type { ResultCounts } from './window.js';

/** Attempt counts by result. */
export interface AttemptCounts {
  readonly success: number;
  readonly error: number;
  readonly timeout: number;
  readonly rateLimited: number;
  /** Failed with an error `isFailure` does not blame on the endpoint (default: category `config`). */
  readonly rejected: number;
  /** Ended by the caller's signal (category `aborted`), not by the endpoint. */
  readonly cancelled: number;
  /** Aborted by the strategy because the call was already decided. */
  readonly abortedLoser: number;
}

export interface WindowStatistics extends AttemptCounts {
  /** Every attempt in the window, whatever its result. */
  readonly attempts: number;
  /** Shares of the attempts that got an answer or should have (success + error + timeout + rejected). */
  readonly successRate: number;
  readonly errorRate: number;
  readonly timeoutRate: number;
  /** `errorRate + timeoutRate`: what the ejection threshold and the score look at. */
  readonly failureRate: number;
  /** This endpoint's share of all attempts the pool made in the window (0…1). */
  readonly utilisation: number;
}

export interface LatencyStatistics {
  /** Successful attempts in the window; the quantiles are over these. */
  readonly samples: number;
  readonly ewmaMs: number | null;
  readonly peakEwmaMs: number | null;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
}

export interface EndpointSnapshot {
  readonly id: string;
  readonly label: string;
  readonly weight: number;
  readonly role: EndpointRole;
  readonly roleSource: 'configured' | 'auto';
  readonly health: HealthState;
  /** How long the endpoint has been in its current health state. */
  readonly healthForMs: number;
  /** Time left until an ejected or suspect endpoint starts probing; null unless ejected or suspect. */
  readonly ejectedForMs: number | null;
  /** Ejections that set the length of the next one (forgotten after a long healthy spell). */
  readonly ejections: number;
  readonly ejectionsTotal: number;
  readonly lastEjectionReason: EjectionReason | null;
  /** Would be chosen by `select()` right now (healthy or probing with a free slot, not cooling down). */
  readonly available: boolean;
  /** 1-based position in the current ranking of available endpoints; null when unavailable. */
  readonly rank: number | null;
  /** The ranking score (lower is better). */
  readonly score: number;
  /** Rate-limit cool-down left; 0 when none. */
  readonly coolingDownForMs: number;
  readonly inFlight: number;
  readonly consecutiveFailures: number;
  readonly latency: LatencyStatistics;
  readonly window: WindowStatistics;
  /** Since the pool was created (not windowed). */
  readonly totals: AttemptCounts;
  readonly lastError: { readonly code: string; readonly category: ErrorCategory; readonly message: string; readonly agoMs: number } | null;
  /** Lead in streams (merged subscriptions), from `recordDelivery`. */
  readonly stream: StreamStatistics;
}

export interface PoolSnapshot {
  /** True when no endpoint is available, so selections fall back to the least bad ones. */
  readonly degraded: boolean;
  readonly windowMs: number;
  /** In configuration order. */
  readonly endpoints: readonly EndpointSnapshot[];
}

/** The endpoint's last error as snapshots and exports show it: its age instead of its time. */
export function lastErrorView(state: EndpointState<unknown>, now: number): EndpointSnapshot['lastError'] {
  const last = state.lastError;
  return last === undefined ? null : { code: last.code, category: last.category, message: last.message, agoMs: Math.max(0, now - last.at) };
}

export function toAttemptCounts(counts: ResultCounts): AttemptCounts {
  return {
    success: counts.success,
    error: counts.error,
    timeout: counts.timeout,
    rateLimited: counts['rate-limited'],
    rejected: counts.rejected,
    cancelled: counts.cancelled,
    abortedLoser: counts['aborted-loser'],
  };
}

function sumCounts(counts: ResultCounts): number {
  return ATTEMPT_RESULTS.reduce((sum, result) => sum + counts[result], 0);
}

function nullable(value: number | undefined): number | null {
  return value === undefined ? null : value;
}

export function buildSnapshot(states: ReadonlyArray<EndpointState<unknown>>, now: number, settings: ResolvedSettings): PoolSnapshot {
  const ranked = rankAll(states, now, settings);
  const roles = classifyRoles(states, now);
  const windowCounts = new Map(states.map((state) => [state, state.window.counts(now)]));
  const allAttempts = [...windowCounts.values()].reduce((sum, counts) => sum + sumCounts(counts), 0);
  const rankOf = new Map<EndpointState<unknown>, { score: number; rank: number | null }>();
  let position = 0;
  for (const entry of ranked) rankOf.set(entry.state, { score: entry.score, rank: entry.available ? ++position : null });

  const endpoints = states.map((state): EndpointSnapshot => {
    const counts = windowCounts.get(state) as ResultCounts;
    const attempts = sumCounts(counts);
    const { rate, volume } = failureRate(counts);
    const role = roles.get(state.endpoint.id) ?? { role: 'primary' as const, source: 'auto' as const };
    const { score, rank } = rankOf.get(state) ?? { score: 0, rank: null };
    const share = (count: number): number => (volume === 0 ? 0 : count / volume);
    return {
      id: state.endpoint.id,
      label: state.endpoint.label,
      weight: state.endpoint.weight,
      role: role.role,
      roleSource: role.source,
      health: state.health,
      healthForMs: Math.max(0, now - state.healthSince),
      ejectedForMs: isOut(state.health) ? Math.max(0, state.ejectedUntil - now) : null,
      ejections: state.ejections,
      ejectionsTotal: state.ejectionsTotal,
      lastEjectionReason: state.lastEjectionReason ?? null,
      available: rank !== null,
      rank,
      score,
      coolingDownForMs: Math.max(0, state.cooldownUntil - now),
      inFlight: state.inFlight,
      consecutiveFailures: state.consecutiveFailures,
      latency: {
        samples: state.window.latencySamples(now),
        ewmaMs: nullable(state.latency.ewma()),
        peakEwmaMs: nullable(state.latency.peak(now)),
        p50Ms: nullable(state.window.quantile(now, 0.5)),
        p90Ms: nullable(state.window.quantile(now, 0.9)),
        p99Ms: nullable(state.window.quantile(now, 0.99)),
      },
      window: {
        ...toAttemptCounts(counts),
        attempts,
        successRate: share(counts.success),
        errorRate: share(counts.error),
        timeoutRate: share(counts.timeout),
        failureRate: rate,
        utilisation: allAttempts === 0 ? 0 : attempts / allAttempts,
      },
      totals: toAttemptCounts(state.totals),
      lastError: lastErrorView(state, now),
      stream: streamStatistics(state.stream, now),
    };
  });
  return { degraded: position === 0, windowMs: settings.statistics.windowMs, endpoints };
}
