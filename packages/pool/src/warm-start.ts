import { ERROR_CATEGORIES, configError, describeValue, redactSecrets } from '@x/errors';
import type { XError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';
import type { EjectionReason, EndpointState, HealthState } from './endpoint.js';
import { isOut, refreshHealth } from './endpoint.js';
import type { ResolvedSettings } from './options.js';
import { lastErrorView, toAttemptCounts } from './snapshot.js';
import type { AttemptCounts } from './snapshot.js';
import type { ResultCounts } from './window.js';

const EXPORT_VERSION = 1;

/** One endpoint's learned state, in plain JSON. Durations are relative, so it survives a restart. */
export interface EndpointExport {
  readonly id: string;
  readonly health: HealthState;
  /** Ejection time left when exported; null unless ejected or suspect. */
  readonly ejectedForMs: number | null;
  readonly ejections: number;
  readonly lastEjectionReason: EjectionReason | null;
  readonly probeSuccesses: number;
  readonly consecutiveFailures: number;
  readonly coolingDownForMs: number;
  readonly latency: {
    readonly ewmaMs: number | null;
    readonly peakEwmaMs: number | null;
    /** The window's latency sketch: zero-latency count and `[latencyMs, count]` bins. */
    readonly zeroCount: number;
    readonly bins: ReadonlyArray<readonly [number, number]>;
  };
  /** Outcome counts of the sliding window. */
  readonly window: AttemptCounts;
  readonly lastError: { readonly code: string; readonly category: ErrorCategory; readonly message: string; readonly agoMs: number } | null;
}

export interface PoolExport {
  readonly version: typeof EXPORT_VERSION;
  /** Wall-clock time of the export (ms since the epoch); import subtracts the time since from every duration. */
  readonly exportedAt: number;
  readonly endpoints: readonly EndpointExport[];
}

export interface ImportResult {
  /** Ids whose state was restored. */
  readonly imported: readonly string[];
  /** Ids in the data that this pool does not have (ignored). */
  readonly unknown: readonly string[];
}

export function exportStates(
  states: ReadonlyArray<EndpointState<unknown>>,
  now: number,
  wallNow: number,
  settings: ResolvedSettings,
): PoolExport {
  return {
    version: EXPORT_VERSION,
    exportedAt: wallNow,
    endpoints: states.map((state): EndpointExport => {
      refreshHealth(state, now, settings);
      const bins = state.window.latencyBins(now);
      return {
        id: state.endpoint.id,
        health: state.health,
        ejectedForMs: isOut(state.health) ? Math.max(0, state.ejectedUntil - now) : null,
        ejections: state.ejections,
        lastEjectionReason: state.lastEjectionReason ?? null,
        probeSuccesses: state.probeSuccesses,
        consecutiveFailures: state.consecutiveFailures,
        coolingDownForMs: Math.max(0, state.cooldownUntil - now),
        latency: {
          ewmaMs: state.latency.ewma() ?? null,
          peakEwmaMs: state.latency.peak(now) ?? null,
          zeroCount: bins.zeroCount,
          bins: bins.bins,
        },
        window: toAttemptCounts(state.window.counts(now)),
        lastError: lastErrorView(state, now),
      };
    }),
  };
}

/** `option` is the path in the import data at fault (`data` for the document itself). */
function importError(option: string, message: string): XError {
  return configError('POOL_INVALID_IMPORT', option, message) as unknown as XError;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw importError(path, `${path} must be a finite non-negative number, got ${describeValue(value)}`);
  return value;
}

function integer(path: string, value: unknown): number {
  const n = count(path, value);
  if (!Number.isInteger(n)) throw importError(path, `${path} must be an integer, got ${n}`);
  return n;
}

function optionalCount(path: string, value: unknown): number | null {
  return value === null ? null : count(path, value);
}

const HEALTH_STATES: readonly string[] = ['healthy', 'ejected', 'probing', 'suspect'];
const REASONS: readonly string[] = ['consecutive-failures', 'error-rate', 'probe-failed', 'suspect'];
const COUNT_KEYS: ReadonlyArray<readonly [keyof AttemptCounts, keyof ResultCounts]> = [
  ['success', 'success'],
  ['error', 'error'],
  ['timeout', 'timeout'],
  ['rateLimited', 'rate-limited'],
  ['rejected', 'rejected'],
  ['cancelled', 'cancelled'],
  ['abortedLoser', 'aborted-loser'],
];

/** Checks the whole document before anything is applied, so bad input changes nothing. */
export function parseExport(data: unknown): PoolExport {
  if (!isRecord(data)) throw importError('data', 'import data must be an object produced by pool.export()');
  if (data.version !== EXPORT_VERSION)
    throw importError('data', `import data version must be ${EXPORT_VERSION}, got ${describeValue(data.version)}`);
  const exportedAt = count('exportedAt', data.exportedAt);
  if (!Array.isArray(data.endpoints)) throw importError('endpoints', 'endpoints must be an array');
  const seen = new Set<string>();
  const endpoints = data.endpoints.map((raw: unknown, index): EndpointExport => {
    const at = `endpoints[${index}]`;
    if (!isRecord(raw)) throw importError(at, `${at} must be an object`);
    if (typeof raw.id !== 'string' || raw.id === '') throw importError(`${at}.id`, `${at}.id must be a non-empty string`);
    if (seen.has(raw.id)) throw importError(`${at}.id`, `${at}.id repeats an earlier endpoint`);
    seen.add(raw.id);
    if (typeof raw.health !== 'string' || !HEALTH_STATES.includes(raw.health))
      throw importError(`${at}.health`, `${at}.health must be one of ${HEALTH_STATES.join(', ')}`);
    const health = raw.health as HealthState;
    const ejectedForMs = optionalCount(`${at}.ejectedForMs`, raw.ejectedForMs);
    if (isOut(health) !== (ejectedForMs !== null))
      throw importError(`${at}.ejectedForMs`, `${at}.ejectedForMs must be a number exactly when health is "ejected" or "suspect"`);
    const reason = raw.lastEjectionReason;
    if (reason !== null && (typeof reason !== 'string' || !REASONS.includes(reason)))
      throw importError(`${at}.lastEjectionReason`, `${at}.lastEjectionReason must be null or one of ${REASONS.join(', ')}`);
    const latency = raw.latency;
    if (!isRecord(latency)) throw importError(`${at}.latency`, `${at}.latency must be an object`);
    const ewmaMs = optionalCount(`${at}.latency.ewmaMs`, latency.ewmaMs);
    const peakEwmaMs = optionalCount(`${at}.latency.peakEwmaMs`, latency.peakEwmaMs);
    if ((ewmaMs === null) !== (peakEwmaMs === null))
      throw importError(`${at}.latency.ewmaMs`, `${at}.latency.ewmaMs and peakEwmaMs must both be numbers or both null`);
    if (!Array.isArray(latency.bins)) throw importError(`${at}.latency.bins`, `${at}.latency.bins must be an array of [latencyMs, count]`);
    const bins = latency.bins.map((bin: unknown, binIndex): readonly [number, number] => {
      if (!Array.isArray(bin) || bin.length !== 2)
        throw importError(`${at}.latency.bins`, `${at}.latency.bins[${binIndex}] must be [latencyMs, count]`);
      return [count(`${at}.latency.bins[${binIndex}][0]`, bin[0]), count(`${at}.latency.bins[${binIndex}][1]`, bin[1])];
    });
    const window = raw.window;
    if (!isRecord(window)) throw importError(`${at}.window`, `${at}.window must be an object of attempt counts`);
    const counts = Object.fromEntries(
      COUNT_KEYS.map(([key]) => [key, integer(`${at}.window.${key}`, window[key])]),
    ) as unknown as AttemptCounts;
    const lastError = raw.lastError;
    let parsedError: EndpointExport['lastError'] = null;
    if (lastError !== null) {
      if (
        !isRecord(lastError) ||
        typeof lastError.code !== 'string' ||
        typeof lastError.message !== 'string' ||
        typeof lastError.category !== 'string' ||
        !(ERROR_CATEGORIES as readonly string[]).includes(lastError.category)
      ) {
        throw importError(`${at}.lastError`, `${at}.lastError must be null or { code, category, message, agoMs }`);
      }
      parsedError = {
        code: lastError.code,
        category: lastError.category as ErrorCategory,
        message: lastError.message,
        agoMs: count(`${at}.lastError.agoMs`, lastError.agoMs),
      };
    }
    return {
      id: raw.id,
      health,
      ejectedForMs,
      ejections: integer(`${at}.ejections`, raw.ejections),
      lastEjectionReason: reason as EjectionReason | null,
      probeSuccesses: integer(`${at}.probeSuccesses`, raw.probeSuccesses),
      consecutiveFailures: integer(`${at}.consecutiveFailures`, raw.consecutiveFailures),
      coolingDownForMs: count(`${at}.coolingDownForMs`, raw.coolingDownForMs),
      latency: { ewmaMs, peakEwmaMs, zeroCount: count(`${at}.latency.zeroCount`, latency.zeroCount), bins },
      window: counts,
      lastError: parsedError,
    };
  });
  return { version: EXPORT_VERSION, exportedAt, endpoints };
}

/**
 * Replaces the learned state of one endpoint with an exported one. The exported window becomes the
 * current bucket of the new window, so it ages out like fresh samples once real traffic replaces it.
 */
export function importState(state: EndpointState<unknown>, data: EndpointExport, now: number, elapsedMs: number): void {
  state.window.clear();
  const counts: Partial<ResultCounts> = {};
  for (const [key, result] of COUNT_KEYS) counts[result] = data.window[key];
  state.window.addAggregate(now, counts, { zeroCount: data.latency.zeroCount, bins: data.latency.bins });
  state.latency.clear();
  if (data.latency.ewmaMs !== null && data.latency.peakEwmaMs !== null)
    state.latency.restore(now, data.latency.ewmaMs, data.latency.peakEwmaMs);
  state.health = data.health;
  state.healthSince = now;
  state.ejectedUntil = data.ejectedForMs === null ? 0 : now + Math.max(0, data.ejectedForMs - elapsedMs);
  state.ejections = data.ejections;
  state.lastEjectionReason = data.lastEjectionReason ?? undefined;
  state.probeSuccesses = data.probeSuccesses;
  state.consecutiveFailures = data.consecutiveFailures;
  const cooldownLeft = data.coolingDownForMs - elapsedMs;
  state.cooldownUntil = cooldownLeft > 0 ? now + cooldownLeft : Number.NEGATIVE_INFINITY;
  state.lastError =
    data.lastError === null
      ? undefined
      : {
          code: data.lastError.code,
          category: data.lastError.category,
          message: redactSecrets(data.lastError.message, state.secrets),
          at: now - data.lastError.agoMs - elapsedMs,
        };
}
