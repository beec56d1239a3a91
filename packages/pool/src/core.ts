import { XError, configError, describeValue, redactSecrets, redactUrl } from '@x/errors';
import { createEndpointState, eject, normaliseOutcome, recordAttempt, refreshHealth } from './endpoint.js';
import type { AttemptOutcome, EndpointState, HealthState, RecordOptions } from './endpoint.js';
import type { EndpointConfig, EndpointRole, ResolvedSettings } from './options.js';
import { classifyRoles, rankAll } from './selection.js';
import type { RankedEndpoint } from './selection.js';
import { importState, parseExport } from './warm-start.js';
import type { ImportResult } from './warm-start.js';
import type { AttemptResult } from './window.js';

/** In-flight bookkeeping of one attempt a caller runs itself; `finish` records its one sample. */
export interface AttemptTracker {
  /** Records the outcome and ends the in-flight count. Only the first call counts; later ones return undefined. */
  finish(outcome: AttemptOutcome, options?: RecordOptions): AttemptResult | undefined;
}

/** What a pool knows: its settings and one mutable state per endpoint. Internal; every pool operation takes it. */
export interface PoolCore<Target> {
  readonly settings: ResolvedSettings;
  readonly states: ReadonlyArray<EndpointState<Target>>;
  readonly byId: ReadonlyMap<string, EndpointState<Target>>;
  /** Most endpoints ejected at once (`ejection.maxEjectedShare`, at least one). */
  readonly maxEjected: number;
  /** Told after every recorded attempt (the budgets publish cool-downs and ejections). */
  readonly afterRecord: ((state: EndpointState<unknown>, result: AttemptResult, healthBefore: HealthState) => void) | undefined;
}

export function createCore<Target>(
  settings: ResolvedSettings,
  endpoints: ReadonlyArray<EndpointConfig<Target>>,
  afterRecord?: PoolCore<Target>['afterRecord'],
): PoolCore<Target> {
  const created = settings.now();
  const states = endpoints.map((config, index) => createEndpointState(config, index, settings, created));
  return {
    settings,
    states,
    byId: new Map(states.map((state) => [state.endpoint.id, state])),
    maxEjected: Math.max(1, Math.floor(states.length * settings.ejection.maxEjectedShare)),
    afterRecord,
  };
}

/** Whether one more endpoint may be ejected now (`ejection.maxEjectedShare`). */
function mayEject(core: PoolCore<unknown>): boolean {
  return core.states.filter((state) => state.health === 'ejected').length < core.maxEjected;
}

/** The state of `endpointId`, or `POOL_UNKNOWN_ENDPOINT` (a URL passed by mistake is redacted: it was never checked for secrets). */
export function stateOf<Target>(core: PoolCore<Target>, endpointId: string): EndpointState<Target> {
  const state = core.byId.get(endpointId);
  if (state !== undefined) return state;
  const shown = typeof endpointId === 'string' && URL.canParse(endpointId) ? redactUrl(endpointId) : describeValue(endpointId);
  throw new XError({
    code: 'POOL_UNKNOWN_ENDPOINT',
    category: 'config',
    message: `No endpoint with id ${shown} in this pool`,
    context: { endpointId: shown },
  });
}

/** Every endpoint ranked best first (see `rankAll`), only those with `role` when given. */
export function rankEndpoints<Target>(core: PoolCore<Target>, role?: EndpointRole): Array<RankedEndpoint<Target>> {
  const at = core.settings.now();
  const ranked = rankAll(core.states, at, core.settings);
  if (role === undefined) return ranked;
  const roles = classifyRoles(core.states, at);
  return ranked.filter((entry) => roles.get(entry.state.endpoint.id)?.role === role);
}

function invalidOutcome(message: string): XError {
  return configError('POOL_INVALID_OUTCOME', 'outcome', message) as unknown as XError;
}

/** The outcome a caller handed over, well-formed, or `POOL_INVALID_OUTCOME`. */
function checkedOutcome(outcome: unknown): AttemptOutcome {
  const normalised = normaliseOutcome(outcome);
  if (typeof normalised === 'string') throw invalidOutcome(normalised);
  return normalised;
}

function record<Target>(
  core: PoolCore<Target>,
  state: EndpointState<Target>,
  outcome: AttemptOutcome,
  options: RecordOptions | undefined,
): AttemptResult {
  const { settings, states } = core;
  const healthBefore = state.health;
  const result = recordAttempt(state, settings.now(), settings, outcome, options?.abortedAsLoser === true, {
    states,
    mayEject: () => mayEject(core),
  });
  core.afterRecord?.(state, result, healthBefore);
  return result;
}

/** Records one finished attempt on `state` (a malformed outcome throws `POOL_INVALID_OUTCOME` and records nothing). */
export function recordOutcome<Target>(
  core: PoolCore<Target>,
  state: EndpointState<Target>,
  outcome: unknown,
  options: RecordOptions | undefined,
): AttemptResult {
  return record(core, state, checkedOutcome(outcome), options);
}

/** Counts an attempt on `state` as in flight (a probe, if it is probing) until `finish` records it. */
export function beginAttempt<Target>(core: PoolCore<Target>, state: EndpointState<Target>): AttemptTracker {
  state.inFlight++;
  const at = core.settings.now();
  refreshHealth(state, at, core.settings);
  if (state.health === 'probing') state.lastProbeAt = at;
  let finished = false;
  return {
    finish(outcome, recordOptions) {
      if (finished) return undefined;
      // Checked before anything changes: a malformed outcome leaves the attempt in flight.
      const checked = checkedOutcome(outcome);
      finished = true;
      state.inFlight--;
      return record(core, state, checked, recordOptions);
    },
  };
}

/** Takes the endpoint out of selection as `suspect` (no effect on one already suspect); `error` becomes its redacted `lastError`. */
export function suspectEndpoint<Target>(core: PoolCore<Target>, endpointId: string, error: XError | undefined): void {
  const state = stateOf(core, endpointId);
  const at = core.settings.now();
  refreshHealth(state, at, core.settings);
  if (error !== undefined) {
    state.lastError = { code: error.code, category: error.category, message: redactSecrets(error.message, state.secrets), at };
  }
  if (state.health === 'suspect') return;
  eject(state, at, core.settings, 'suspect');
}

/** Restores the endpoints an `export()` document knows; validates it all first (`POOL_INVALID_IMPORT`, nothing changed). */
export function importInto<Target>(core: PoolCore<Target>, data: unknown): ImportResult {
  const parsed = parseExport(data);
  const { settings } = core;
  const at = settings.now();
  const elapsedMs = Math.max(0, settings.wallNow() - parsed.exportedAt);
  const imported: string[] = [];
  const unknown: string[] = [];
  for (const entry of parsed.endpoints) {
    const state = core.byId.get(entry.id);
    if (state === undefined) {
      unknown.push(entry.id);
      continue;
    }
    importState(state, entry, at, elapsedMs);
    refreshHealth(state, at, settings);
    imported.push(entry.id);
  }
  return { imported, unknown };
}
