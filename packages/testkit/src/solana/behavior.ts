import type { Random } from '../random.js';
import type { OptionChecks, TestkitConfigCode } from '../options.js';
import { checkKeys, integerIn as integer, invalidOptions, isRecord, numberIn as number, rpcOptionChecks } from './errors.js';

/** How long an endpoint takes to answer: a log-normal body with rare, long stalls (a heavy tail). */
export interface RpcLatency {
  /** Median of the log-normal part, in ms. */
  readonly medianMs: number;
  /** Shape of the log-normal part: 0 = always the median, 0.5 ≈ p99 at 3.2× the median. */
  readonly sigma: number;
  /** Probability that a request stalls instead (0..1). */
  readonly stallProbability: number;
  /** A stall lasts a uniform draw from this range, in ms: `[min, max]`. */
  readonly stallMs: readonly [number, number];
}

export interface RpcRateLimit {
  /** Tokens added per second. */
  readonly requestsPerSecond: number;
  /** Bucket size: how many requests may arrive at once after a quiet period. */
  readonly burst: number;
}

/** `up` answers; `down` resets every connection at once; `hung` reads requests and never answers. */
export type RpcEndpointMode = 'up' | 'down' | 'hung';

/** Which failure an injected error is: an HTTP 5xx, a JSON-RPC -32603 on HTTP 200, or either at random. */
export type RpcErrorMode = 'mixed' | 'http' | 'json-rpc';

/**
 * How an endpoint's WebSocket delivers subscription notifications. Each notification draws its fate
 * from the endpoint's seeded stream, in this order: disconnect, drop, then delay (+ jitter), reorder
 * and duplicate, then (with `stallRate`) whether it starts a stall. Without reordering, notifications on one connection keep their order.
 */
export interface RpcStreamFaults {
  /** Delay added to every notification, in ms. */
  readonly delayMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs] per notification. */
  readonly jitterMs: number;
  /** Fraction of notifications never sent (0..1). */
  readonly dropRate: number;
  /** Fraction of notifications sent twice (0..1). */
  readonly duplicateRate: number;
  /** Fraction of notifications held back and sent after the next one on the same connection (0..1). */
  readonly reorderRate: number;
  /** Fraction of notifications that, instead of being sent, drop the connection abruptly (no close frame) (0..1). */
  readonly disconnectRate: number;
  /**
   * The endpoint never confirms: `processed` subscriptions (and `slotSubscribe`) deliver, `confirmed` and
   * `finalized` ones never do.
   */
  readonly neverConfirms: boolean;
  /**
   * Fraction of notifications that start a stall (0..1): the endpoint's socket stays open (pings answered) but
   * delivers nothing for `stallMs`; what falls due meanwhile goes out at the stall's end, in order.
   */
  readonly stallRate: number;
  /** How long one stall lasts, in ms (a stall needs both `stallRate` and `stallMs`). */
  readonly stallMs: number;
}

/** Everything that makes one simulated endpoint behave the way it does. */
export interface RpcEndpointBehavior {
  readonly mode: RpcEndpointMode;
  readonly latency: RpcLatency;
  /** Fraction of HTTP requests answered with an injected error (0..1). */
  readonly errorRate: number;
  readonly errorMode: RpcErrorMode;
  /** A token bucket per endpoint; requests beyond it get HTTP 429 with `Retry-After`. `null`: no limit. */
  readonly rateLimit: RpcRateLimit | null;
  /** The endpoint serves the chain as of `tip - slotLag`, with that older `context.slot`. */
  readonly slotLag: number;
  /** Fraction of value-bearing answers that are altered (0..1); 1 = always lies. */
  readonly lieRate: number;
  /** How its WebSocket delivers notifications (`slotLag` applies to them too). */
  readonly stream: RpcStreamFaults;
}

/** A partial behaviour: what `setBehavior`, endpoint options and `rpcProfiles` are written in. */
export interface RpcBehaviorPatch {
  readonly mode?: RpcEndpointMode;
  readonly latency?: Partial<RpcLatency>;
  readonly errorRate?: number;
  readonly errorMode?: RpcErrorMode;
  readonly rateLimit?: { readonly requestsPerSecond: number; readonly burst?: number } | null;
  readonly slotLag?: number;
  readonly lieRate?: number;
  readonly stream?: Partial<RpcStreamFaults>;
}

/** Notifications sent at once, in order, once and all. */
export const DEFAULT_STREAM_FAULTS: RpcStreamFaults = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  dropRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  disconnectRate: 0,
  neverConfirms: false,
  stallRate: 0,
  stallMs: 0,
});

/** An ideal endpoint: up, instant, never wrong, never limited. */
export const DEFAULT_RPC_BEHAVIOR: RpcEndpointBehavior = Object.freeze({
  mode: 'up',
  latency: Object.freeze({ medianMs: 0, sigma: 0, stallProbability: 0, stallMs: Object.freeze([500, 1500] as const) }),
  errorRate: 0,
  errorMode: 'mixed',
  rateLimit: null,
  slotLag: 0,
  lieRate: 0,
  stream: DEFAULT_STREAM_FAULTS,
});

// Shared presets must not be changed by one user under another's feet.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

export type RpcProfileName = 'fast' | 'heavyTail' | 'flaky' | 'rateLimited' | 'lagging' | 'liar' | 'down' | 'hung';

/**
 * Ready-made behaviours, shared by tests, benchmarks and the tour. Combine them by spreading:
 * `{ ...rpcProfiles.heavyTail, ...rpcProfiles.lagging }`.
 */
export const rpcProfiles: Readonly<Record<RpcProfileName, RpcBehaviorPatch>> = deepFreeze({
  /** A nearby, healthy provider: ~2 ms, tight. */
  fast: { latency: { medianMs: 2, sigma: 0.2, stallProbability: 0 } },
  /** A typical remote provider: ~40 ms with a log-normal tail and 3 % stalls of 0.5–1.5 s. */
  heavyTail: { latency: { medianMs: 40, sigma: 0.5, stallProbability: 0.03, stallMs: [500, 1500] } },
  /** ~20 ms, 2 % of requests fail (HTTP 5xx or JSON-RPC -32603). */
  flaky: { latency: { medianMs: 20, sigma: 0.4, stallProbability: 0 }, errorRate: 0.02 },
  /** ~20 ms behind a 20 requests/s bucket (burst 20): beyond it, HTTP 429 with Retry-After. */
  rateLimited: { latency: { medianMs: 20, sigma: 0.3, stallProbability: 0 }, rateLimit: { requestsPerSecond: 20, burst: 20 } },
  /** ~20 ms, serving state 8 slots (≈ 3 s) old. */
  lagging: { latency: { medianMs: 20, sigma: 0.3, stallProbability: 0 }, slotLag: 8 },
  /** ~20 ms, every value-bearing answer altered. */
  liar: { latency: { medianMs: 20, sigma: 0.3, stallProbability: 0 }, lieRate: 1 },
  /** Every connection reset. */
  down: { mode: 'down' },
  /** Reads every request, answers none. */
  hung: { mode: 'hung' },
});

const HOUR_MS = 3_600_000;

/**
 * `base` with a latency patch applied, validated with `checks` (the caller's error code); `path` names the patch, e.g.
 * `endpoints[1].behavior.latency`, and a bad field is reported below it.
 */
export function resolveLatency(base: RpcLatency, patch: unknown, path: string, checks: OptionChecks<TestkitConfigCode>): RpcLatency {
  if (!isRecord(patch)) throw checks.invalid('must be an object', path, patch);
  checks.checkKeys(patch, ['medianMs', 'sigma', 'stallProbability', 'stallMs'], path);
  let stallMs = base.stallMs;
  if (patch.stallMs !== undefined) {
    const range = patch.stallMs;
    if (!Array.isArray(range) || range.length !== 2) throw checks.invalid('must be a [min, max] pair', `${path}.stallMs`, range);
    const min = checks.numberIn(range[0], `${path}.stallMs[0]`, 0, HOUR_MS);
    stallMs = [min, checks.numberIn(range[1], `${path}.stallMs[1]`, min, HOUR_MS)];
  }
  const pick = (key: 'medianMs' | 'sigma' | 'stallProbability', max: number): number =>
    patch[key] === undefined ? base[key] : checks.numberIn(patch[key], `${path}.${key}`, 0, max);
  return { medianMs: pick('medianMs', HOUR_MS), sigma: pick('sigma', 5), stallProbability: pick('stallProbability', 1), stallMs };
}

/**
 * `base` with `patch` applied (one level deep for `latency`), validated: every bad field is
 * reported by its path, e.g. `endpoints[1].behavior.latency.sigma`.
 */
export function resolveBehavior(base: RpcEndpointBehavior, patch: unknown, field: string, maxSlotLag: number): RpcEndpointBehavior {
  if (patch === undefined) return base;
  if (!isRecord(patch)) throw invalidOptions('must be an object', field, patch);
  checkKeys(patch, ['mode', 'latency', 'errorRate', 'errorMode', 'rateLimit', 'slotLag', 'lieRate', 'stream'], field);

  const latency =
    patch.latency === undefined ? base.latency : resolveLatency(base.latency, patch.latency, `${field}.latency`, rpcOptionChecks);

  let rateLimit = base.rateLimit;
  if (patch.rateLimit !== undefined) {
    const path = `${field}.rateLimit`;
    if (patch.rateLimit === null) {
      rateLimit = null;
    } else {
      if (!isRecord(patch.rateLimit)) throw invalidOptions('must be { requestsPerSecond, burst? } or null', path, patch.rateLimit);
      checkKeys(patch.rateLimit, ['requestsPerSecond', 'burst'], path);
      const requestsPerSecond = number(patch.rateLimit.requestsPerSecond, `${path}.requestsPerSecond`, Number.MIN_VALUE, 1e6);
      const burst =
        patch.rateLimit.burst === undefined
          ? Math.max(1, Math.ceil(requestsPerSecond))
          : integer(patch.rateLimit.burst, `${path}.burst`, 1, 1e6);
      rateLimit = { requestsPerSecond, burst };
    }
  }

  const mode = patch.mode ?? base.mode;
  if (mode !== 'up' && mode !== 'down' && mode !== 'hung') throw invalidOptions('must be "up", "down" or "hung"', `${field}.mode`, mode);
  const errorMode = patch.errorMode ?? base.errorMode;
  if (errorMode !== 'mixed' && errorMode !== 'http' && errorMode !== 'json-rpc') {
    throw invalidOptions('must be "mixed", "http" or "json-rpc"', `${field}.errorMode`, errorMode);
  }
  return Object.freeze({
    mode,
    latency: Object.freeze({ ...latency, stallMs: Object.freeze([...latency.stallMs]) as unknown as readonly [number, number] }),
    errorRate: patch.errorRate === undefined ? base.errorRate : number(patch.errorRate, `${field}.errorRate`, 0, 1),
    errorMode,
    rateLimit: rateLimit === null ? null : Object.freeze({ ...rateLimit }),
    slotLag: patch.slotLag === undefined ? base.slotLag : integer(patch.slotLag, `${field}.slotLag`, 0, maxSlotLag),
    lieRate: patch.lieRate === undefined ? base.lieRate : number(patch.lieRate, `${field}.lieRate`, 0, 1),
    stream: resolveStream(base.stream, patch.stream, `${field}.stream`),
  });
}

function resolveStream(base: RpcStreamFaults, patch: unknown, field: string): RpcStreamFaults {
  if (patch === undefined) return base;
  if (!isRecord(patch)) throw invalidOptions('must be an object', field, patch);
  checkKeys(patch, Object.keys(DEFAULT_STREAM_FAULTS), field);
  const rate = (key: 'dropRate' | 'duplicateRate' | 'reorderRate' | 'disconnectRate' | 'stallRate'): number =>
    patch[key] === undefined ? base[key] : number(patch[key], `${field}.${key}`, 0, 1);
  const neverConfirms = patch.neverConfirms ?? base.neverConfirms;
  if (typeof neverConfirms !== 'boolean') throw invalidOptions('must be a boolean', `${field}.neverConfirms`, neverConfirms);
  return Object.freeze({
    delayMs: patch.delayMs === undefined ? base.delayMs : number(patch.delayMs, `${field}.delayMs`, 0, HOUR_MS),
    jitterMs: patch.jitterMs === undefined ? base.jitterMs : number(patch.jitterMs, `${field}.jitterMs`, 0, HOUR_MS),
    dropRate: rate('dropRate'),
    duplicateRate: rate('duplicateRate'),
    reorderRate: rate('reorderRate'),
    disconnectRate: rate('disconnectRate'),
    neverConfirms,
    stallRate: rate('stallRate'),
    stallMs: patch.stallMs === undefined ? base.stallMs : number(patch.stallMs, `${field}.stallMs`, 0, HOUR_MS),
  });
}

/**
 * One latency draw for `latency` from `random`: a stall (uniform in `stallMs`) with probability
 * `stallProbability`, otherwise log-normal around `medianMs`. Whole milliseconds are not forced:
 * timers round them anyway.
 */
export function sampleLatencyMs(latency: RpcLatency, random: Random): number {
  if (random.chance(latency.stallProbability)) return random.uniform(latency.stallMs[0], latency.stallMs[1]);
  if (latency.medianMs === 0) return 0;
  return random.lognormal(latency.medianMs, latency.sigma);
}

/** A token bucket on a monotonic millisecond clock. */
export interface TokenBucket {
  /** Takes a token; when none is left, returns the ms until one will be. */
  take(nowMs: number): { ok: true } | { ok: false; retryAfterMs: number };
}

export function createTokenBucket(limit: RpcRateLimit, startMs: number): TokenBucket {
  let tokens = limit.burst;
  let updatedMs = startMs;
  const perMs = limit.requestsPerSecond / 1000;
  return {
    take(nowMs) {
      tokens = Math.min(limit.burst, tokens + Math.max(0, nowMs - updatedMs) * perMs);
      updatedMs = Math.max(updatedMs, nowMs);
      if (tokens >= 1) {
        tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: (1 - tokens) / perMs };
    },
  };
}
