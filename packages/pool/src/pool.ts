import { XError, configError, describeValue, redactSecrets, redactUrl } from '@x/errors';
import type { HedgeBudget } from '@x/rpc-strategies';
import type { Registry } from 'prom-client';
import { createEndpointState, eject, normaliseOutcome, recordAttempt, refreshHealth } from './endpoint.js';
import type { AttemptOutcome, EndpointState, RecordOptions } from './endpoint.js';
import { createPoolRegistry } from './metrics.js';
import { invalidOptions, resolveSettings, validateEndpoints } from './options.js';
import type { EndpointRole, PoolEndpoint, PoolOptions, ResolvedSettings } from './options.js';
import { buildPairs, classifyRoles, rankAll } from './selection.js';
import type { EndpointPair, RankedEndpoint } from './selection.js';
import { buildSnapshot } from './snapshot.js';
import type { PoolSnapshot } from './snapshot.js';
import { exportStates, importState, parseExport } from './warm-start.js';
import type { ImportResult, PoolExport } from './warm-start.js';
import type { AttemptResult } from './window.js';

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
}

export interface PairsOptions {
  /** At most this many pairs. Default: all. */
  readonly maxPairs?: number;
}

export interface PairSelection<Target> {
  readonly pairs: ReadonlyArray<EndpointPair<Target>>;
  readonly degraded: boolean;
}

/** In-flight bookkeeping of one attempt a caller runs itself; `finish` records its one sample. */
export interface AttemptTracker {
  /** Records the outcome and ends the in-flight count. Only the first call counts; later ones return undefined. */
  finish(outcome: AttemptOutcome, options?: RecordOptions): AttemptResult | undefined;
}

/** The internals `execute` needs; not part of the public API. */
export interface PoolCore<Target> {
  readonly settings: ResolvedSettings;
  readonly states: ReadonlyArray<EndpointState<Target>>;
  stateOf(endpointId: string): EndpointState<Target>;
  rank(role?: EndpointRole): Array<RankedEndpoint<Target>>;
  begin(state: EndpointState<Target>): AttemptTracker;
  /** Whether one more endpoint may be ejected now (`ejection.maxEjectedShare`). */
  mayEject(): boolean;
}

export function createPoolCore<Target>(options: PoolOptions<Target>): PoolCore<Target> {
  if (typeof options !== 'object' || (options as unknown) === null) throw invalidOptions('options', 'createPool needs an options object { endpoints, … }', options);
  const settings = resolveSettings(options);
  const endpoints = validateEndpoints<Target>(options.endpoints);
  const now = settings.now;
  const created = now();
  const states = endpoints.map((config, index) => createEndpointState(config, index, settings, created));
  const byId = new Map(states.map((state) => [state.endpoint.id, state]));
  const maxEjected = Math.max(1, Math.floor(states.length * settings.ejection.maxEjectedShare));
  const mayEject = (): boolean => states.filter((state) => state.health === 'ejected').length < maxEjected;

  return {
    settings,
    mayEject,
    states,
    stateOf(endpointId) {
      const state = byId.get(endpointId);
      if (state === undefined) {
        // An id that is not in the pool was never checked for secrets: a URL passed by mistake is redacted.
        const shown = typeof endpointId === 'string' && URL.canParse(endpointId) ? redactUrl(endpointId) : describeValue(endpointId);
        throw new XError({
          code: 'POOL_UNKNOWN_ENDPOINT',
          category: 'config',
          message: `No endpoint with id ${shown} in this pool`,
          context: { endpointId: shown },
        });
      }
      return state;
    },
    rank(role) {
      const at = now();
      const ranked = rankAll(states, at, settings);
      if (role === undefined) return ranked;
      const roles = classifyRoles(states, at);
      return ranked.filter((entry) => roles.get(entry.state.endpoint.id)?.role === role);
    },
    begin(state) {
      state.inFlight++;
      const at = now();
      refreshHealth(state, at, settings);
      if (state.health === 'probing') state.lastProbeAt = at;
      let finished = false;
      return {
        finish(outcome, recordOptions) {
          if (finished) return undefined;
          const normalised = normaliseOutcome(outcome);
          if (typeof normalised === 'string') throw invalidOutcome(normalised);
          finished = true;
          state.inFlight--;
          return recordAttempt(state, now(), settings, normalised, recordOptions?.abortedAsLoser === true, { states, mayEject });
        },
      };
    },
  };
}

function invalidOutcome(message: string): XError {
  return configError('POOL_INVALID_OUTCOME', 'outcome', message) as unknown as XError;
}

export function checkCount(name: string, value: number | undefined, minimum: number): void {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return;
  if (!Number.isInteger(value) || value < minimum) throw invalidOptions(name, `${name} must be an integer ≥ ${minimum}, got ${describeValue(value)}`, value);
}

export function selectFrom<Target>(ranked: ReadonlyArray<RankedEndpoint<Target>>, options: SelectOptions = {}): { chosen: Array<RankedEndpoint<Target>>; degraded: boolean } {
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

export function pairsFrom<Target>(core: PoolCore<Target>, options: PairsOptions = {}): PairSelection<Target> & { chosen: Array<RankedEndpoint<Target>> } {
  checkCount('maxPairs', options.maxPairs, 1);
  const at = core.settings.now();
  const ranked = core.rank();
  const roles = classifyRoles(core.states, at);
  const available = ranked.filter((entry) => entry.available);
  const degraded = available.length === 0;
  const candidates = degraded ? ranked : available;
  const pairs = buildPairs(candidates, roles, at).slice(0, options.maxPairs ?? Number.POSITIVE_INFINITY);
  const used = new Set(pairs.flatMap((pair) => (pair.secondary === undefined ? [pair.primary.id] : [pair.primary.id, pair.secondary.id])));
  return { pairs, degraded, chosen: candidates.filter((entry) => used.has(entry.state.endpoint.id)) };
}

/** The learned hedge delay of one endpoint: its own latency quantile, clamped, or the default before enough samples. */
export function hedgeDelayOf(state: EndpointState<unknown>, settings: ResolvedSettings, now: number, quantile = settings.hedge.quantile): number {
  const { minSamples, defaultDelayMs, minDelayMs, maxDelayMs } = settings.hedge;
  if (state.window.latencySamples(now) < minSamples) return defaultDelayMs;
  const value = state.window.quantile(now, quantile) ?? defaultDelayMs;
  return Math.min(maxDelayMs, Math.max(minDelayMs, value));
}

export interface PoolBase<Target> {
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
  snapshot(): PoolSnapshot;
  /** This pool's own Prometheus registry; merge it with others via `Registry.merge`. */
  readonly registry: Registry;
  /** Prometheus text exposition of `registry`. */
  metrics(): Promise<string>;
  export(): PoolExport;
  /** Restores state from `export()` output. Validates everything first: bad data throws and changes nothing. */
  import(data: unknown): ImportResult;
}

export function createPoolBase<Target>(core: PoolCore<Target>, hedgeBudget: HedgeBudget): PoolBase<Target> {
  const { settings, states } = core;
  const now = settings.now;
  const registry = createPoolRegistry(settings, () => buildSnapshot(states, now(), settings), hedgeBudget);

  return {
    endpoints: states.map((state) => state.endpoint),
    select(options) {
      const { chosen, degraded } = selectFrom(core.rank(options?.role), options);
      return { endpoints: chosen.map((entry) => entry.state.endpoint), degraded };
    },
    record(endpointId, outcome, options) {
      const state = core.stateOf(endpointId);
      const normalised = normaliseOutcome(outcome);
      if (typeof normalised === 'string') throw invalidOutcome(normalised);
      return recordAttempt(state, now(), settings, normalised, options?.abortedAsLoser === true, { states, mayEject: () => core.mayEject() });
    },
    startAttempt(endpointId) {
      return core.begin(core.stateOf(endpointId));
    },
    suspect(endpointId, error) {
      const state = core.stateOf(endpointId);
      const at = now();
      refreshHealth(state, at, settings);
      if (error !== undefined) {
        state.lastError = { code: error.code, category: error.category, message: redactSecrets(error.message, state.secrets), at };
      }
      if (state.health === 'suspect') return;
      eject(state, at, settings, 'suspect');
    },
    snapshot: () => buildSnapshot(states, now(), settings),
    registry,
    metrics: () => registry.metrics(),
    export() {
      return exportStates(states, now(), settings.wallNow(), settings);
    },
    import(data) {
      const parsed = parseExport(data);
      const at = now();
      const elapsedMs = Math.max(0, settings.wallNow() - parsed.exportedAt);
      const imported: string[] = [];
      const unknown: string[] = [];
      const byId = new Map(states.map((state) => [state.endpoint.id, state]));
      for (const entry of parsed.endpoints) {
        const state = byId.get(entry.id);
        if (state === undefined) {
          unknown.push(entry.id);
          continue;
        }
        importState(state, entry, at, elapsedMs);
        refreshHealth(state, at, settings);
        imported.push(entry.id);
      }
      return { imported, unknown };
    },
  };
}
