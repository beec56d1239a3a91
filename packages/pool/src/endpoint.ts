import { isXError, redactSecrets, redactUrl, toXError } from '@x/errors';
import type { ErrorCategory, Outcome, XError } from '@x/errors';
import { createLatencyAverages } from './latency.js';
import type { LatencyAverages } from './latency.js';
import { secretsOfTarget } from './options.js';
import type { EndpointConfig, PoolEndpoint, ResolvedSettings } from './options.js';
import { createStreamState } from './stream.js';
import type { StreamState } from './stream.js';
import { createSlidingWindow, emptyCounts } from './window.js';
import type { AttemptResult, ResultCounts, SlidingWindow } from './window.js';

/**
 * `suspect`: taken out of selection like `ejected`, but because its answers contradict the other
 * endpoints' (e.g. a Solana node claiming slots far ahead of the others), not because it failed.
 */
export type HealthState = 'healthy' | 'ejected' | 'probing' | 'suspect';
export type EjectionReason = 'consecutive-failures' | 'error-rate' | 'probe-failed' | 'suspect';

/** Health states that keep an endpoint out of selection until `ejectedUntil`. */
export function isOut(health: HealthState): boolean {
  return health === 'ejected' || health === 'suspect';
}

/** What one finished attempt reports: the `Outcome` of `@x/errors` (the value is not looked at). */
export type AttemptOutcome = Outcome<unknown>;

export interface RecordOptions {
  /** The strategy aborted this attempt because the call was already decided: not the endpoint's failure. */
  readonly abortedAsLoser?: boolean;
}

interface LastError {
  readonly code: string;
  readonly category: ErrorCategory;
  /** Redacted: secrets of a URL target are replaced by `***`. */
  readonly message: string;
  readonly at: number;
}

/** Everything the pool knows about one endpoint. Mutable; owned by one pool. */
export interface EndpointState<Target> {
  readonly endpoint: PoolEndpoint<Target>;
  /** Position in the configuration, the last tie-breaker of every ordering. */
  readonly order: number;
  readonly secrets: readonly string[];
  readonly window: SlidingWindow;
  readonly latency: LatencyAverages;
  health: HealthState;
  healthSince: number;
  ejectedUntil: number;
  /** Ejections that count toward the next ejection's length; forgotten after `ejection.memoryMs` healthy. */
  ejections: number;
  ejectionsTotal: number;
  lastEjectionReason: EjectionReason | undefined;
  probeSuccesses: number;
  consecutiveFailures: number;
  cooldownUntil: number;
  inFlight: number;
  /** Probe slots promised to calls that have chosen this endpoint but not started its attempt yet. */
  probeReservations: number;
  /** When the last attempt on this endpoint started while it was probing. */
  lastProbeAt: number;
  lastError: LastError | undefined;
  readonly totals: ResultCounts;
  /** Lead statistics of streams (`recordDelivery`). */
  readonly stream: StreamState;
}

export function createEndpointState<Target>(
  config: EndpointConfig<Target>,
  order: number,
  settings: ResolvedSettings,
  now: number,
): EndpointState<Target> {
  const secrets = secretsOfTarget(config.target);
  const label = redactSecrets(config.label ?? defaultLabel(config), secrets);
  const endpoint: PoolEndpoint<Target> = Object.freeze({
    id: config.id,
    target: config.target,
    label,
    weight: config.weight ?? 1,
    configuredRole: config.role,
  });
  return {
    endpoint,
    order,
    secrets,
    window: createSlidingWindow({
      windowMs: settings.statistics.windowMs,
      buckets: settings.statistics.windowBuckets,
      relativeAccuracy: settings.statistics.quantileAccuracy,
    }),
    latency: createLatencyAverages({
      halfLifeSamples: settings.statistics.ewmaHalfLifeSamples,
      peakHalfLifeMs: settings.statistics.peakHalfLifeMs,
    }),
    health: 'healthy',
    healthSince: now,
    ejectedUntil: 0,
    ejections: 0,
    ejectionsTotal: 0,
    lastEjectionReason: undefined,
    probeSuccesses: 0,
    consecutiveFailures: 0,
    cooldownUntil: Number.NEGATIVE_INFINITY,
    inFlight: 0,
    probeReservations: 0,
    lastProbeAt: Number.NEGATIVE_INFINITY,
    lastError: undefined,
    totals: emptyCounts(),
    stream: createStreamState(settings),
  };
}

function defaultLabel(config: EndpointConfig<unknown>): string {
  const { target } = config;
  if (target instanceof URL || (typeof target === 'string' && URL.canParse(target))) return redactUrl(target);
  return config.id;
}

/** Applies the transitions that only depend on time passing: ejected or suspect → probing, forgetting old ejections. */
export function refreshHealth(state: EndpointState<unknown>, now: number, settings: ResolvedSettings): void {
  if (isOut(state.health) && now >= state.ejectedUntil) {
    state.health = 'probing';
    state.healthSince = state.ejectedUntil;
    state.probeSuccesses = 0;
    state.lastProbeAt = Number.NEGATIVE_INFINITY;
  }
  if (state.health === 'healthy' && state.ejections > 0 && now - state.healthSince >= settings.ejection.memoryMs) {
    state.ejections = 0;
  }
}

/** An endpoint's own latency quantile (the hedge quantile, p95 by default), once it has `hedge.minSamples` successes in the window. */
function ownLatencyQuantile(state: EndpointState<unknown>, now: number, settings: ResolvedSettings): number | undefined {
  if (state.window.latencySamples(now) < settings.hedge.minSamples) return undefined;
  return state.window.quantile(now, settings.hedge.quantile);
}

/**
 * How long an endpoint is expected to need before a deadline cut counts against it: its own latency
 * quantile; without enough samples of its own (a race's loser never has any), the median of the other
 * endpoints' quantiles; 0 when nothing is known at all.
 */
function expectedLatencyMs(
  state: EndpointState<unknown>,
  states: ReadonlyArray<EndpointState<unknown>>,
  now: number,
  settings: ResolvedSettings,
): number {
  const own = ownLatencyQuantile(state, now, settings);
  if (own !== undefined) return own;
  const known = states.flatMap((other) => {
    const value = other === state ? undefined : ownLatencyQuantile(other, now, settings);
    return value === undefined ? [] : [value];
  });
  if (known.length === 0) return 0;
  known.sort((a, b) => a - b);
  return known[Math.floor((known.length - 1) / 2)] as number;
}

function classifyOutcome(outcome: AttemptOutcome, abortedAsLoser: boolean, settings: ResolvedSettings, expectedMs = 0): AttemptResult {
  // Cut by the call's own deadline after running at least as long as this endpoint normally needs, the
  // endpoint did not answer in its time: a timeout (left neutral, a hung endpoint would never lose its
  // rank, and every single-candidate call would wait on it). Cut sooner, the call's budget was too short
  // for it (a late hedge, a saturated caller): the call was the cause, not the endpoint.
  if (abortedAsLoser) {
    return !outcome.ok && isXError(outcome.error, 'STRATEGY_DEADLINE_EXCEEDED') && outcome.latencyMs >= expectedMs
      ? 'timeout'
      : 'aborted-loser';
  }
  if (outcome.ok) return 'success';
  const { error } = outcome;
  switch (error.category) {
    case 'aborted':
      return 'cancelled';
    case 'rate-limit':
      return 'rate-limited';
    case 'timeout':
      return 'timeout';
    default:
      return settings.isFailure(error) ? 'error' : 'rejected';
  }
}

function ejectionDurationMs(ejections: number, settings: ResolvedSettings): number {
  const { baseMs, factor, maxMs } = settings.ejection;
  return Math.min(maxMs, baseMs * factor ** Math.max(0, ejections - 1));
}

export function eject(state: EndpointState<unknown>, now: number, settings: ResolvedSettings, reason: EjectionReason): void {
  state.ejections++;
  state.ejectionsTotal++;
  state.health = reason === 'suspect' ? 'suspect' : 'ejected';
  state.healthSince = now;
  state.ejectedUntil = now + ejectionDurationMs(state.ejections, settings);
  state.lastEjectionReason = reason;
  state.probeSuccesses = 0;
}

/** The window's failure rate: errors and timeouts over every attempt that got an answer or should have. */
export function failureRate(counts: ResultCounts): { rate: number; volume: number } {
  const failures = counts.error + counts.timeout;
  const volume = failures + counts.success + counts.rejected;
  return { rate: volume === 0 ? 0 : failures / volume, volume };
}

/**
 * The failure rate that ejects: like {@link failureRate}, but losers the strategy cut (another endpoint
 * was faster) count as attempts of a live endpoint, so an endpoint that is always a little slower than
 * another is not judged on the few calls whose deadline cut everyone.
 */
function ejectionRate(counts: ResultCounts): { rate: number; volume: number } {
  const failures = counts.error + counts.timeout;
  const volume = failures + counts.success + counts.rejected + counts['aborted-loser'];
  return { rate: volume === 0 ? 0 : failures / volume, volume };
}

function retryAfterOf(error: XError): number | undefined {
  const value = error.context.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Records exactly one finished attempt: statistics first, then the health and cool-down transitions. */
export function recordAttempt(
  state: EndpointState<unknown>,
  now: number,
  settings: ResolvedSettings,
  outcome: AttemptOutcome,
  abortedAsLoser: boolean,
  pool: { readonly states: ReadonlyArray<EndpointState<unknown>>; readonly mayEject: () => boolean } = {
    states: [state],
    mayEject: () => true,
  },
): AttemptResult {
  refreshHealth(state, now, settings);
  const cutByDeadline = abortedAsLoser && !outcome.ok && isXError(outcome.error, 'STRATEGY_DEADLINE_EXCEEDED');
  const result = classifyOutcome(
    outcome,
    abortedAsLoser,
    settings,
    cutByDeadline ? expectedLatencyMs(state, pool.states, now, settings) : 0,
  );
  state.totals[result]++;
  state.window.add(now, result, result === 'success' ? outcome.latencyMs : undefined);
  if (result === 'success') state.latency.observe(now, outcome.latencyMs);
  if (!outcome.ok && result !== 'aborted-loser' && result !== 'cancelled') {
    state.lastError = {
      code: outcome.error.code,
      category: outcome.error.category,
      message: redactSecrets(outcome.error.message, state.secrets),
      at: now,
    };
  }

  switch (result) {
    case 'success':
    case 'rejected':
      state.consecutiveFailures = 0;
      if (state.health === 'probing' && ++state.probeSuccesses >= settings.ejection.recoverySuccesses) {
        state.health = 'healthy';
        state.healthSince = now;
        // The failures that caused the ejection are still in the window; without this the first
        // failure after recovery would eject again on the stale error rate.
        state.window.clearCounts();
      }
      break;
    case 'error':
    case 'timeout': {
      state.consecutiveFailures++;
      if (state.health === 'probing') {
        eject(state, now, settings, 'probe-failed');
      } else if (state.health === 'healthy') {
        const { rate, volume } = ejectionRate(state.window.counts(now));
        // Timeouts never eject more than maxEjectedShare of the endpoints at once: when they all time out
        // together, the cause is more likely the caller (saturated) than each of them. Errors always do.
        const mayEject = (): boolean => result !== 'timeout' || pool.mayEject();
        if (state.consecutiveFailures >= settings.ejection.consecutiveFailures) {
          if (mayEject()) eject(state, now, settings, 'consecutive-failures');
        } else if (volume >= settings.ejection.minSamples && rate >= settings.ejection.errorRate && mayEject()) {
          eject(state, now, settings, 'error-rate');
        }
      }
      break;
    }
    case 'rate-limited': {
      const error = (outcome as { error: XError }).error;
      const waitMs = Math.min(settings.cooldown.maxMs, retryAfterOf(error) ?? settings.cooldown.defaultMs);
      state.cooldownUntil = Math.max(state.cooldownUntil, now + waitMs);
      break;
    }
    case 'aborted-loser':
      // It was still working when another endpoint won: alive, so its run of failures is broken.
      if (state.health === 'healthy') state.consecutiveFailures = 0;
      break;
    case 'cancelled':
      break;
  }
  return result;
}

/** Turns whatever a caller hands to `record` into a well-formed outcome, or says why it cannot. */
export function normaliseOutcome(outcome: unknown): AttemptOutcome | string {
  if (typeof outcome !== 'object' || outcome === null) return 'outcome must be an object { ok, latencyMs, error? }';
  const { ok, latencyMs, error } = outcome as Record<string, unknown>;
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0)
    return 'outcome.latencyMs must be a finite non-negative number';
  if (ok === true) return { ok: true, value: undefined, latencyMs };
  if (ok !== false) return 'outcome.ok must be true or false';
  const xError = isXError(error) ? error : toXError(error, { code: 'POOL_ATTEMPT_FAILED', category: 'server' });
  return { ok: false, error: xError, latencyMs };
}

/** A probing endpoint whose next probe is due: it ranks first, so that some call actually probes it. */
export function probeDue(state: EndpointState<unknown>, now: number, settings: ResolvedSettings): boolean {
  return state.health === 'probing' && now - state.lastProbeAt >= settings.ejection.probeIntervalMs;
}

export function isAvailable(state: EndpointState<unknown>, now: number, settings: ResolvedSettings): boolean {
  if (now < state.cooldownUntil) return false;
  if (state.health === 'healthy') return true;
  if (state.health === 'probing') return state.inFlight + state.probeReservations < settings.ejection.probeConcurrency;
  return false;
}

/** When the endpoint can next be used (0 when it can now): the "least bad" order of a degraded selection. */
export function unavailableForMs(state: EndpointState<unknown>, now: number): number {
  const until = Math.max(state.cooldownUntil, isOut(state.health) ? state.ejectedUntil : Number.NEGATIVE_INFINITY);
  return Math.max(0, until - now);
}
