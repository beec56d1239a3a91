import { configError, describeValue, secretsOfUrl } from '@x/errors';
import type { ConfigErrorContext, XError } from '@x/errors';
import type { HedgeBudgetOptions } from '@x/rpc-strategies';
import type { BudgetStore } from './budget-store.js';

export type EndpointRole = 'primary' | 'secondary';

/** One endpoint as the user declares it. `target` is opaque to the pool: a URL, an address object… */
export interface EndpointConfig<Target> {
  /** Unique, stable, and safe to print: it appears in snapshots, exports and metric labels. */
  readonly id: string;
  readonly target: Target;
  /** A fixed role for the dual strategy; without it the pool classifies the endpoint itself. */
  readonly role?: EndpointRole;
  /** Relative share of traffic: the ranking score is divided by it. Default 1. */
  readonly weight?: number;
  /** Human name for snapshots and metrics. Default: the redacted URL when `target` is a URL, else the id. */
  readonly label?: string;
  /** The provider's limits: the pool never sends beyond them (see README, "Budgets"). Default: unlimited. */
  readonly budget?: EndpointBudget;
}

/** Credits of a provider that bills methods differently (e.g. compute units). */
export interface CreditsBudget {
  /** Credits earned per second. */
  readonly perSecond: number;
  /** Most credits that can be spent at once. Default `perSecond` (one second's worth). */
  readonly burst?: number;
  /** Cost of each method (execute's `method`); methods not listed cost `defaultCost`. */
  readonly costs?: Readonly<Record<string, number>>;
  /** Cost of a method not in `costs` (or of a call without `method`). Default 1. */
  readonly defaultCost?: number;
}

/** The declared limits of one endpoint, enforced by client-side token buckets held in the pool's `budgetStore`. */
export interface EndpointBudget {
  /** Requests per second (every attempt costs one request). */
  readonly requestsPerSecond: number;
  /** Most requests that can be sent at once. Default `max(1, requestsPerSecond)` (one second's worth). */
  readonly burst?: number;
  /** Most attempts in flight at once against this endpoint (counted by this pool). Default unlimited. */
  readonly maxConcurrency?: number;
  readonly credits?: CreditsBudget;
}

/** What `execute` does when no endpoint's budget admits the call: wait for tokens (bounded by `deadlineMs` and `signal`) or fail at once. */
export type BudgetExhaustedPolicy = 'wait' | 'fail';

/** How much headroom (share of the fullest-possible bucket, 0–1) an endpoint needs to be spent on redundancy. */
export interface RedundancyHeadroomOptions {
  /** Below this, an endpoint is left out of a race (the race degrades to a hedge when none is left). Default 0.5. */
  readonly race?: number;
  /** Below this on every other endpoint, a hedge degrades to a single attempt (failover only). Default 0.2. */
  readonly hedge?: number;
}

/** The endpoint as the pool hands it to attempt functions and selections. */
export interface PoolEndpoint<Target> {
  readonly id: string;
  readonly target: Target;
  readonly label: string;
  readonly weight: number;
  /** The role given in the configuration, if any (see `Pool.roleOf` for the effective one). */
  readonly configuredRole: EndpointRole | undefined;
}

export interface EjectionOptions {
  /** Consecutive failures (errors or timeouts) that eject a healthy endpoint. Default 5. */
  readonly consecutiveFailures?: number;
  /** Failure rate over the window that ejects an endpoint… Default 0.5. */
  readonly errorRate?: number;
  /** …once the window holds at least this many completed attempts. Default 20. */
  readonly minSamples?: number;
  /** First ejection time. Default 10 000 ms. */
  readonly baseMs?: number;
  /** Each further ejection lasts `baseMs × factor^(ejections − 1)`. Default 2. */
  readonly factor?: number;
  /** Cap on one ejection. Default 300 000 ms. */
  readonly maxMs?: number;
  /** An endpoint healthy this long forgets its earlier ejections (backoff starts again at `baseMs`). Default 600 000 ms. */
  readonly memoryMs?: number;
  /** Attempts a probing endpoint may have in flight at once. Default 1. */
  readonly probeConcurrency?: number;
  /**
   * A probing endpoint ranks first (ahead of the healthy ones) when its last probe started at least this
   * long ago, so that it is probed whatever the traffic (hedge or single calls use only the first
   * endpoint); otherwise it ranks after every healthy endpoint. Default 1 000 ms.
   */
  readonly probeIntervalMs?: number;
  /** Consecutive successes that bring a probing endpoint back to healthy. Default 3. */
  readonly recoverySuccesses?: number;
  /**
   * Most endpoints that timeouts may eject at once, as a share of the pool (at least one may always be):
   * when more time out together, the cause is more likely the caller's (saturated). Errors are not
   * limited. Default 0.5.
   */
  readonly maxEjectedShare?: number;
}

export interface CooldownOptions {
  /** Cool-down after a rate-limit error that carries no `retryAfterMs`. Default 1 000 ms. */
  readonly defaultMs?: number;
  /** Upper bound on any cool-down, whatever the server asks for. Default 60 000 ms. */
  readonly maxMs?: number;
}

export interface StatisticsOptions {
  /** Length of the sliding window for rates and quantiles. Default 60 000 ms. */
  readonly windowMs?: number;
  /** The window moves in this many steps (samples expire a whole step at a time). Default 6. */
  readonly windowBuckets?: number;
  /** Half-life of the latency EWMA, in samples. Default 10. */
  readonly ewmaHalfLifeSamples?: number;
  /** Half-life, in time, of a latency peak's excess over the EWMA. Default 10 000 ms. */
  readonly peakHalfLifeMs?: number;
  /** Relative accuracy of the DDSketch latency quantiles. Default 0.01 (1 %). */
  readonly quantileAccuracy?: number;
}

export interface ScoringOptions {
  /** Weight of the window failure rate in the score: `× (1 + errorPenalty × failureRate)`. Default 10. */
  readonly errorPenalty?: number;
  /** Weight of in-flight attempts in the score: `× (1 + inFlightPenalty × inFlight)`. Default 1. */
  readonly inFlightPenalty?: number;
}

export interface HedgeDelayOptions {
  /** Quantile of the endpoint's own latency that it is given before the next attempt starts. Default 0.95: about one call in twenty waits long enough to hedge, well inside the default 10 % hedge budget. */
  readonly quantile?: number;
  /** Latency samples an endpoint needs before its own quantile is trusted. Default 10. */
  readonly minSamples?: number;
  /** Delay used before an endpoint has `minSamples` samples. Default 50 ms. */
  readonly defaultDelayMs?: number;
  /** Floor on any learned delay. Default 2 ms. */
  readonly minDelayMs?: number;
  /** Ceiling on any learned delay. Default 5 000 ms. */
  readonly maxDelayMs?: number;
}

export interface PoolOptions<Target> {
  readonly endpoints: ReadonlyArray<EndpointConfig<Target>>;
  readonly ejection?: EjectionOptions;
  readonly cooldown?: CooldownOptions;
  readonly statistics?: StatisticsOptions;
  readonly scoring?: ScoringOptions;
  readonly hedge?: HedgeDelayOptions;
  /**
   * The one hedge budget the pool owns and every hedged `execute` draws from (`createHedgeBudget` of
   * `@x/rpc-strategies`; default `DEFAULT_HEDGE_BUDGET`: ratio 0.1, minPerSecond 5, burst 10, starting empty). Its clock
   * defaults to the pool's `now`.
   */
  readonly hedgeBudget?: HedgeBudgetOptions;
  /**
   * Decides whether a failed attempt counts against the endpoint's health. Timeouts always do; rate
   * limits and aborts never do (they have their own handling). Default: every category but `config`.
   */
  readonly isFailure?: (error: XError) => boolean;
  /** Prefix of every Prometheus metric name. Default `x_pool_`. */
  readonly metricsPrefix?: string;
  /** Labels added to every metric of this pool, e.g. `{ pool: 'solana-mainnet' }`. Default none. */
  readonly metricsLabels?: Readonly<Record<string, string>>;
  /** Monotonic clock in ms. Default `performance.now()` (faked by vitest's fake timers). */
  readonly now?: () => number;
  /** Wall clock in ms since the epoch, for export/import ages and endpoint holds. Default `Date.now()`. */
  readonly wallNow?: () => number;
  /**
   * Where budgets and endpoint holds (cool-downs, ejections) live. Default: a store of this pool's own
   * (`createLocalBudgetStore` with the pool's clocks). Pools (or replicas, with a shared store) given one store share it.
   */
  readonly budgetStore?: BudgetStore;
  /** Default of `execute`'s `onBudgetExhausted`. Default `'wait'`. */
  readonly onBudgetExhausted?: BudgetExhaustedPolicy;
  readonly redundancyHeadroom?: RedundancyHeadroomOptions;
}

export interface ResolvedSettings {
  readonly ejection: Required<EjectionOptions>;
  readonly cooldown: Required<CooldownOptions>;
  readonly statistics: Required<StatisticsOptions>;
  readonly scoring: Required<ScoringOptions>;
  readonly hedge: Required<HedgeDelayOptions>;
  readonly isFailure: (error: XError) => boolean;
  readonly metricsPrefix: string;
  readonly metricsLabels: Readonly<Record<string, string>>;
  readonly now: () => number;
  readonly wallNow: () => number;
  readonly onBudgetExhausted: BudgetExhaustedPolicy;
  readonly redundancyHeadroom: Required<RedundancyHeadroomOptions>;
}

export const DEFAULT_EJECTION: Required<EjectionOptions> = {
  consecutiveFailures: 5,
  errorRate: 0.5,
  minSamples: 20,
  baseMs: 10_000,
  factor: 2,
  maxMs: 300_000,
  memoryMs: 600_000,
  probeConcurrency: 1,
  probeIntervalMs: 1_000,
  recoverySuccesses: 3,
  maxEjectedShare: 0.5,
};

export const DEFAULT_COOLDOWN: Required<CooldownOptions> = { defaultMs: 1_000, maxMs: 60_000 };

export const DEFAULT_STATISTICS: Required<StatisticsOptions> = {
  windowMs: 60_000,
  windowBuckets: 6,
  ewmaHalfLifeSamples: 10,
  peakHalfLifeMs: 10_000,
  quantileAccuracy: 0.01,
};

export const DEFAULT_REDUNDANCY_HEADROOM: Required<RedundancyHeadroomOptions> = { race: 0.5, hedge: 0.2 };

export const DEFAULT_SCORING: Required<ScoringOptions> = { errorPenalty: 10, inFlightPenalty: 1 };

export const DEFAULT_HEDGE: Required<HedgeDelayOptions> = {
  quantile: 0.95,
  minSamples: 10,
  defaultDelayMs: 50,
  minDelayMs: 2,
  maxDelayMs: 5_000,
};

/** A `POOL_INVALID_OPTIONS` configuration error naming `option` (with the value received when given). */
export function invalidOptions(option: string, message: string, ...value: [unknown?]): XError {
  const error =
    value.length === 0
      ? configError('POOL_INVALID_OPTIONS', option, message)
      : configError('POOL_INVALID_OPTIONS', option, message, value[0]);
  // ConfigErrorContext is an interface (no index signature): widened to the plain XError the pool throws.
  return error as unknown as XError;
}

declare module '@x/errors' {
  interface ErrorContexts {
    POOL_INVALID_OPTIONS: ConfigErrorContext;
    /** `option`: the path in the import data at fault, e.g. `endpoints[1].id`. */
    POOL_INVALID_IMPORT: ConfigErrorContext;
    /** A malformed outcome handed to `record` or an attempt tracker's `finish`; `option` is `outcome`. */
    POOL_INVALID_OUTCOME: ConfigErrorContext;
    /** `endpointId`: the id asked for, redacted when it is a URL. */
    POOL_UNKNOWN_ENDPOINT: { readonly endpointId: string };
    /** A recorded failure that was not an `@x` error (kept as `cause`). */
    POOL_ATTEMPT_FAILED: Readonly<Record<string, never>>;
  }
}

type NumberRule = 'positive' | 'non-negative' | 'positive-integer' | 'fraction' | 'open-fraction' | 'factor';

function checkNumber(path: string, value: unknown, rule: NumberRule): void {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule === 'positive'
      ? value > 0
      : rule === 'non-negative'
        ? value >= 0
        : rule === 'positive-integer'
          ? Number.isInteger(value) && value > 0
          : rule === 'fraction'
            ? value >= 0 && value <= 1
            : rule === 'open-fraction'
              ? value > 0 && value < 1
              : value >= 1);
  if (!ok) throw invalidOptions(path, `${path} must be a ${describeRule(rule)} number, got ${describeValue(value)}`);
}

function describeRule(rule: NumberRule): string {
  switch (rule) {
    case 'positive':
      return 'finite positive';
    case 'non-negative':
      return 'finite non-negative';
    case 'positive-integer':
      return 'positive integer';
    case 'fraction':
      return 'between 0 and 1 (inclusive)';
    case 'open-fraction':
      return 'between 0 and 1 (exclusive)';
    case 'factor':
      return 'finite ≥ 1';
  }
}

function merge<T extends object>(
  path: string,
  defaults: Required<T>,
  given: T | undefined,
  rules: Record<keyof T, NumberRule>,
): Required<T> {
  if (given !== undefined && (typeof given !== 'object' || given === null)) throw invalidOptions(path, `${path} must be an object`);
  const out = { ...defaults };
  for (const key of Object.keys(rules) as Array<keyof T>) {
    const value = given?.[key];
    if (value === undefined) continue;
    checkNumber(`${path}.${String(key)}`, value, rules[key]);
    out[key] = value;
  }
  return out;
}

export function resolveSettings(options: PoolOptions<unknown>): ResolvedSettings {
  const ejection = merge('ejection', DEFAULT_EJECTION, options.ejection, {
    consecutiveFailures: 'positive-integer',
    errorRate: 'open-fraction',
    minSamples: 'positive-integer',
    baseMs: 'positive',
    factor: 'factor',
    maxMs: 'positive',
    memoryMs: 'positive',
    probeConcurrency: 'positive-integer',
    probeIntervalMs: 'non-negative',
    recoverySuccesses: 'positive-integer',
    maxEjectedShare: 'fraction',
  });
  if (ejection.maxMs < ejection.baseMs) throw invalidOptions('ejection.maxMs', 'ejection.maxMs must not be below ejection.baseMs');
  const cooldown = merge('cooldown', DEFAULT_COOLDOWN, options.cooldown, { defaultMs: 'non-negative', maxMs: 'non-negative' });
  const statistics = merge('statistics', DEFAULT_STATISTICS, options.statistics, {
    windowMs: 'positive',
    windowBuckets: 'positive-integer',
    ewmaHalfLifeSamples: 'positive',
    peakHalfLifeMs: 'positive',
    quantileAccuracy: 'open-fraction',
  });
  const scoring = merge('scoring', DEFAULT_SCORING, options.scoring, { errorPenalty: 'non-negative', inFlightPenalty: 'non-negative' });
  const hedge = merge('hedge', DEFAULT_HEDGE, options.hedge, {
    quantile: 'fraction',
    minSamples: 'positive-integer',
    defaultDelayMs: 'non-negative',
    minDelayMs: 'non-negative',
    maxDelayMs: 'non-negative',
  });
  if (hedge.maxDelayMs < hedge.minDelayMs) throw invalidOptions('hedge.maxDelayMs', 'hedge.maxDelayMs must not be below hedge.minDelayMs');
  for (const [name, fn] of [
    ['isFailure', options.isFailure],
    ['now', options.now],
    ['wallNow', options.wallNow],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function') throw invalidOptions(name, `${name} must be a function`);
  }
  const onBudgetExhausted = options.onBudgetExhausted ?? 'wait';
  checkExhaustedPolicy('onBudgetExhausted', onBudgetExhausted);
  const redundancyHeadroom = merge('redundancyHeadroom', DEFAULT_REDUNDANCY_HEADROOM, options.redundancyHeadroom, {
    race: 'fraction',
    hedge: 'fraction',
  });
  checkBudgetStore(options.budgetStore);
  const metricsPrefix = options.metricsPrefix ?? 'x_pool_';
  if (typeof metricsPrefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metricsPrefix)) {
    throw invalidOptions('metricsPrefix', 'metricsPrefix must be a valid Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)');
  }
  const metricsLabels = options.metricsLabels ?? {};
  if (typeof metricsLabels !== 'object' || metricsLabels === null) throw invalidOptions('metricsLabels', 'metricsLabels must be an object');
  for (const [name, value] of Object.entries(metricsLabels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__') || typeof value !== 'string') {
      throw invalidOptions('metricsLabels', `metricsLabels.${name} must be a valid Prometheus label name with a string value`);
    }
    if (RESERVED_LABELS.has(name)) throw invalidOptions('metricsLabels', `metricsLabels.${name} clashes with a label the pool sets itself`);
  }
  return {
    ejection,
    cooldown,
    statistics,
    scoring,
    hedge,
    isFailure: options.isFailure ?? ((error) => error.category !== 'config'),
    metricsPrefix,
    metricsLabels,
    now: options.now ?? (() => performance.now()),
    wallNow: options.wallNow ?? (() => Date.now()),
    onBudgetExhausted,
    redundancyHeadroom,
  };
}

export function checkExhaustedPolicy(option: string, value: unknown): void {
  if (value !== 'wait' && value !== 'fail')
    throw invalidOptions(option, `${option} must be "wait" or "fail", got ${describeValue(value)}`, value);
}

const STORE_METHODS = ['take', 'refund', 'hold', 'holds', 'status', 'close'] as const;

function checkBudgetStore(store: unknown): void {
  if (store === undefined) return;
  if (
    typeof store !== 'object' ||
    store === null ||
    STORE_METHODS.some((name) => typeof (store as Record<string, unknown>)[name] !== 'function')
  ) {
    throw invalidOptions('budgetStore', `budgetStore must be a BudgetStore (an object with ${STORE_METHODS.join(', ')})`);
  }
}

function checkBudget(path: string, budget: unknown): void {
  if (budget === undefined) return;
  if (typeof budget !== 'object' || budget === null)
    throw invalidOptions(path, `${path} must be an object { requestsPerSecond, burst?, maxConcurrency?, credits? }`, budget);
  const { requestsPerSecond, burst, maxConcurrency, credits } = budget as Record<string, unknown>;
  checkNumber(`${path}.requestsPerSecond`, requestsPerSecond, 'positive');
  if (burst !== undefined) checkNumber(`${path}.burst`, burst, 'positive');
  if (maxConcurrency !== undefined) checkNumber(`${path}.maxConcurrency`, maxConcurrency, 'positive-integer');
  if (credits === undefined) return;
  if (typeof credits !== 'object' || credits === null)
    throw invalidOptions(`${path}.credits`, `${path}.credits must be an object { perSecond, burst?, costs?, defaultCost? }`, credits);
  const { perSecond, burst: creditBurst, costs, defaultCost } = credits as Record<string, unknown>;
  checkNumber(`${path}.credits.perSecond`, perSecond, 'positive');
  if (creditBurst !== undefined) checkNumber(`${path}.credits.burst`, creditBurst, 'positive');
  if (defaultCost !== undefined) checkNumber(`${path}.credits.defaultCost`, defaultCost, 'non-negative');
  if (costs === undefined) return;
  if (typeof costs !== 'object' || costs === null || Array.isArray(costs))
    throw invalidOptions(`${path}.credits.costs`, `${path}.credits.costs must be an object of method → cost`, costs);
  for (const [method, cost] of Object.entries(costs)) checkNumber(`${path}.credits.costs.${method}`, cost, 'non-negative');
}

const RESERVED_LABELS: ReadonlySet<string> = new Set(['endpoint', 'label', 'state', 'result', 'quantile', 'bucket', 'from', 'to', 'mode']);

/** The secrets a target could leak into text: only URL targets have any the pool can know about. */
export function secretsOfTarget(target: unknown): string[] {
  if (typeof target === 'string') {
    if (!URL.canParse(target)) return [];
    return secretsOfUrl(target);
  }
  if (target instanceof URL) return secretsOfUrl(target);
  return [];
}

export function validateEndpoints<Target>(endpoints: unknown): ReadonlyArray<EndpointConfig<Target>> {
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw invalidOptions('endpoints', 'endpoints must be a non-empty array of { id, target, role?, weight?, label? }');
  }
  const seen = new Set<string>();
  endpoints.forEach((endpoint: unknown, index) => {
    if (typeof endpoint !== 'object' || endpoint === null)
      throw invalidOptions(`endpoints[${index}]`, `endpoints[${index}] must be an object`, endpoint);
    const { id, role, weight, label, target } = endpoint as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0)
      throw invalidOptions(`endpoints[${index}].id`, `endpoints[${index}].id must be a non-empty string`);
    if (seen.has(id)) throw invalidOptions(`endpoints[${index}].id`, `endpoints[${index}].id repeats the id of an earlier endpoint`);
    seen.add(id);
    if (!('target' in endpoint) || target === undefined) {
      throw invalidOptions(`endpoints[${index}].target`, `endpoints[${index}].target is required`);
    }
    if (secretsOfTarget(target).some((secret) => id.includes(secret))) {
      // Ids are printed everywhere (snapshots, metrics, exports), so one that carries an API key would leak it.
      throw invalidOptions(
        `endpoints[${index}].id`,
        `endpoints[${index}].id contains a secret of its target URL; use a short name such as "provider-a"`,
      );
    }
    if (role !== undefined && role !== 'primary' && role !== 'secondary') {
      throw invalidOptions(`endpoints[${index}].role`, `endpoints[${index}].role must be "primary" or "secondary"`);
    }
    if (weight !== undefined && (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0)) {
      throw invalidOptions(
        `endpoints[${index}].weight`,
        `endpoints[${index}].weight must be a finite positive number, got ${describeValue(weight)}`,
      );
    }
    if (label !== undefined && (typeof label !== 'string' || label.length === 0)) {
      throw invalidOptions(`endpoints[${index}].label`, `endpoints[${index}].label must be a non-empty string`);
    }
    checkBudget(`endpoints[${index}].budget`, (endpoint as Record<string, unknown>).budget);
  });
  return endpoints as ReadonlyArray<EndpointConfig<Target>>;
}
