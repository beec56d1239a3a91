import { describeValue } from '@x/errors';
import type { XError } from '@x/errors';
import type { HedgeBudget } from '@x/rpc-strategies';
import type { Registry } from 'prom-client';
import type { BudgetReport } from './budgets.js';
import type { AttemptTracker, PoolCore } from './core.js';
import type { AttemptOutcome, EndpointState, RecordOptions } from './endpoint.js';
import type { Execute } from './execute.js';
import { invalidOptions } from './options.js';
import type { EndpointRole, PoolEndpoint, ResolvedSettings } from './options.js';
import { buildPairs, classifyRoles } from './selection.js';
import type { EndpointPair, RankedEndpoint } from './selection.js';
import { rankEndpoints } from './core.js';
import type { PoolSnapshot } from './snapshot.js';
import type { StreamSelectOptions } from './stream-selection.js';
import type { StreamDelivery } from './stream.js';
import type { ImportResult, PoolExport } from './warm-start.js';
import type { AttemptResult } from './window.js';

export type { AttemptTracker } from './core.js';

/** What `Pool.takeBudget` takes. */
export interface BudgetRequest {
  /** Requests the provider counts. Default 1. */
  readonly requests?: number;
  /** The methods sent: their credits are summed (see `EndpointBudget.credits`). */
  readonly methods?: ReadonlyArray<string>;
  /** Credits, over what `methods` cost. */
  readonly cost?: number;
}

export interface SelectOptions {
  /** At most this many endpoints. Default: all. */
  readonly maxCandidates?: number;
  /**
   * At least this many endpoints (if the pool has them): when fewer are available, the least bad
   * unavailable ones fill up and the selection is marked `degraded`. Default 1.
   */
  readonly minCandidates?: number;
  /** Only endpoints with this effective role. */
  readonly role?: EndpointRole;
}

export interface Selection<Target> {
  /** Best first. */
  readonly endpoints: ReadonlyArray<PoolEndpoint<Target>>;
  /** True when unavailable endpoints (ejected, cooling down, probe slots full) had to be included. */
  readonly degraded: boolean;
  /** In `execute`'s `onSelection` of a pool with budgets: what the budgets decided (redundancy, wait, endpoints left out). */
  readonly budget?: BudgetReport;
}

export interface PairsOptions {
  /** At most this many pairs. Default: all. */
  readonly maxPairs?: number;
}

export interface PairSelection<Target> {
  readonly pairs: ReadonlyArray<EndpointPair<Target>>;
  readonly degraded: boolean;
}

export function checkCount(name: string, value: number | undefined, minimum: number): void {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return;
  if (!Number.isInteger(value) || value < minimum)
    throw invalidOptions(name, `${name} must be an integer ≥ ${minimum}, got ${describeValue(value)}`, value);
}

export function selectFrom<Target>(
  ranked: ReadonlyArray<RankedEndpoint<Target>>,
  options: SelectOptions = {},
): { chosen: Array<RankedEndpoint<Target>>; degraded: boolean } {
  checkCount('maxCandidates', options.maxCandidates, 1);
  checkCount('minCandidates', options.minCandidates, 0);
  const max = options.maxCandidates ?? Number.POSITIVE_INFINITY;
  const min = Math.min(options.minCandidates ?? 1, max);
  const available = ranked.filter((entry) => entry.available);
  const chosen = available.slice(0, max);
  if (chosen.length >= min) return { chosen, degraded: false };
  // rankAll already orders the unavailable ones least bad first.
  const fallback = ranked.filter((entry) => !entry.available).slice(0, min - chosen.length);
  return { chosen: [...chosen, ...fallback], degraded: fallback.length > 0 };
}

export function pairsFrom<Target>(
  core: PoolCore<Target>,
  options: PairsOptions = {},
): PairSelection<Target> & { chosen: Array<RankedEndpoint<Target>> } {
  checkCount('maxPairs', options.maxPairs, 1);
  const at = core.settings.now();
  const ranked = rankEndpoints(core);
  const roles = classifyRoles(core.states, at);
  const available = ranked.filter((entry) => entry.available);
  const degraded = available.length === 0;
  const candidates = degraded ? ranked : available;
  const pairs = buildPairs(candidates, roles, at).slice(0, options.maxPairs ?? Number.POSITIVE_INFINITY);
  const used = new Set(pairs.flatMap((pair) => (pair.secondary === undefined ? [pair.primary.id] : [pair.primary.id, pair.secondary.id])));
  return { pairs, degraded, chosen: candidates.filter((entry) => used.has(entry.state.endpoint.id)) };
}

/** The learned hedge delay of one endpoint: its own latency quantile, clamped, or the default before enough samples. */
export function hedgeDelayOf(
  state: EndpointState<unknown>,
  settings: ResolvedSettings,
  now: number,
  quantile = settings.hedge.quantile,
): number {
  const { minSamples, defaultDelayMs, minDelayMs, maxDelayMs } = settings.hedge;
  if (state.window.latencySamples(now) < minSamples) return defaultDelayMs;
  const value = state.window.quantile(now, quantile) ?? defaultDelayMs;
  return Math.min(maxDelayMs, Math.max(minDelayMs, value));
}

/** A pool of endpoints with live statistics, health, ranking and strategy execution (see `createPool`). */
export interface Pool<Target> {
  /**
   * Chooses candidates (available endpoints, best first; a probe that is due first, other probes last; falling back to the least bad),
   * runs the strategy of `@x/rpc-strategies` over them and records every attempt.
   */
  readonly execute: Execute<Target>;
  /** The budget every hedged call of this pool draws from (its `snapshot()` is exported as metrics). */
  readonly hedgeBudget: HedgeBudget;
  /** The endpoints in configuration order. */
  readonly endpoints: ReadonlyArray<PoolEndpoint<Target>>;
  /** Available endpoints ranked best first (see README for the score), falling back to the least bad. */
  select(options?: SelectOptions): Selection<Target>;
  /** Records one finished attempt that was not tracked with `startAttempt`. */
  record(endpointId: string, outcome: AttemptOutcome, options?: RecordOptions): AttemptResult;
  /** Counts an attempt as in flight until `finish` records its outcome. */
  startAttempt(endpointId: string): AttemptTracker;
  /**
   * Takes the endpoint out of selection as `suspect`: its answers contradict the other endpoints'
   * (not a failure of its own, which `record` handles). It stays out for the ejection backoff and is
   * then probed like an ejected endpoint. `error` (redacted) becomes its `lastError`. No effect on an
   * endpoint that is already suspect.
   */
  suspect(endpointId: string, error?: XError): void;
  /**
   * Records one event an endpoint delivered in a stream (a merged subscription): whether it was the first copy
   * and how far behind the first it arrived. Shown in `snapshot()` (`stream`) and the metrics, used by `selectForStreams`.
   */
  recordDelivery(endpointId: string, delivery: StreamDelivery): void;
  /**
   * Takes the budget of one request that is sent outside `execute` (an upstream batch of several calls, say) from
   * `endpointId`'s buckets: `requests` (default 1: a batch of n calls counts n at most providers) and the credits of
   * `methods` (or `cost`). Take it right before sending, then count the attempt with `startAttempt`. Never waits:
   * refused, `retryInMs` says when it could be granted (undefined: when a concurrency slot frees, or never: more than the
   * endpoint's bucket holds, which would reach the provider beyond its burst — send fewer at once). An endpoint without
   * a budget always grants.
   */
  takeBudget(endpointId: string, request?: BudgetRequest): Promise<{ readonly granted: boolean; readonly retryInMs: number | undefined }>;
  /**
   * Endpoints not ejected or suspect (a cool-down concerns calls) ranked for a stream, best first: the ones leading most often and least behind, after any
   * endpoint not yet measured (fewer than `minSamples` deliveries in the window); falls back to the least bad as `select`.
   */
  selectForStreams(options?: StreamSelectOptions): Selection<Target>;
  snapshot(): PoolSnapshot;
  /** This pool's own Prometheus registry; merge it with others via `Registry.merge`. */
  readonly registry: Registry;
  /** Prometheus text exposition of `registry`. */
  metrics(): Promise<string>;
  export(): PoolExport;
  /** Restores state from `export()` output. Validates everything first: bad data throws and changes nothing. */
  import(data: unknown): ImportResult;
}
