import { configError, describeValue } from '@x/errors';
import type { ConfigErrorContext, XError } from '@x/errors';

/**
 * One token bucket: it holds at most `capacity` tokens (the burst) and refills continuously at `ratePerSecond`.
 * `key` names the bucket for every user of a store (e.g. `requests:provider-a`, `credits:provider-a`); two specs
 * with the same key are the same bucket.
 */
export interface TokenBucketSpec {
  readonly key: string;
  readonly ratePerSecond: number;
  readonly capacity: number;
}

/** `cost` tokens from one bucket. A cost above the bucket's capacity is granted once the bucket is full, leaving it in debt. */
export interface BudgetTake {
  readonly bucket: TokenBucketSpec;
  readonly cost: number;
}

/**
 * The answer to a `take`. `granted`: every cost was taken (or, when false, none). `retryInMs`: 0 when granted, else
 * how long until the same take could be granted if nobody else takes meanwhile. `remaining`: the tokens left in each
 * bucket after the take (or now, when refused), in the order of the takes.
 */
export interface BudgetGrant {
  readonly granted: boolean;
  readonly retryInMs: number;
  readonly remaining: ReadonlyArray<number>;
}

/** `cooldown`: rate-limited (a 429's `Retry-After`); `ejected`: unhealthy. */
export type EndpointHoldKind = 'cooldown' | 'ejected';

/** An endpoint kept out of selection until `untilWallMs` (wall clock, ms since the epoch, so replicas agree). */
export interface EndpointHold {
  readonly kind: EndpointHoldKind;
  readonly untilWallMs: number;
}

/**
 * `local`: in-process buckets only; `shared`: every user of the store sees the same buckets; `degraded`: a shared
 * store that lost its backend and serves on local buckets scaled to `share` (0 < share ≤ 1) of each budget.
 * `detail` says why, for `/health` and logs.
 */
export interface BudgetStoreStatus {
  readonly mode: 'local' | 'shared' | 'degraded';
  readonly detail?: string;
  readonly share?: number;
}

/**
 * Where the pool keeps its budgets (token buckets) and endpoint holds. The default is `createLocalBudgetStore()`;
 * several pools (or processes, with a shared implementation such as `@x/budget-redis`) that use one store share one
 * set of budgets and see each other's cool-downs and ejections.
 */
export interface BudgetStore {
  /** Takes every cost from its bucket, all or none, atomically for every user of the store. Never throws for a refusal. */
  take(takes: ReadonlyArray<BudgetTake>): Promise<BudgetGrant>;
  /** Gives back tokens of a take whose request was never sent. */
  refund(takes: ReadonlyArray<BudgetTake>): Promise<void>;
  /** Publishes a cool-down (a 429's Retry-After) or an ejection to every user of the store. */
  hold(endpointId: string, hold: EndpointHold): Promise<void>;
  /** Current holds of every endpoint (expired ones left out). */
  holds(): Promise<ReadonlyMap<string, EndpointHold>>;
  status(): BudgetStoreStatus;
  close(): Promise<void>;
}

export interface LocalBudgetStoreOptions {
  /** Monotonic clock in ms for the refill. Default `performance.now()` (faked by vitest's fake timers). */
  readonly now?: () => number;
  /** Wall clock in ms since the epoch for hold expiry. Default `Date.now()`. */
  readonly wallNow?: () => number;
}

declare module '@x/errors' {
  interface ErrorContexts {
    /** A malformed take or hold handed to a budget store; `option` names the field, e.g. `takes[0].bucket.ratePerSecond`. */
    POOL_INVALID_BUDGET: ConfigErrorContext;
  }
}

function invalidBudget(option: string, message: string, value: unknown): XError {
  return configError('POOL_INVALID_BUDGET', option, message, value) as unknown as XError;
}

function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Throws `POOL_INVALID_BUDGET` unless every take is well formed (shared by every store implementation). */
export function checkTakes(takes: ReadonlyArray<BudgetTake>): void {
  if (!Array.isArray(takes)) throw invalidBudget('takes', 'takes must be an array of { bucket, cost }', takes);
  takes.forEach((take: unknown, index) => {
    const path = `takes[${index}]`;
    if (typeof take !== 'object' || take === null) throw invalidBudget(path, `${path} must be an object { bucket, cost }`, take);
    const { bucket, cost } = take as Record<string, unknown>;
    if (typeof bucket !== 'object' || bucket === null) throw invalidBudget(`${path}.bucket`, `${path}.bucket must be an object`, bucket);
    const { key, ratePerSecond, capacity } = bucket as Record<string, unknown>;
    if (typeof key !== 'string' || key.length === 0)
      throw invalidBudget(`${path}.bucket.key`, `${path}.bucket.key must be a non-empty string`, key);
    if (!isPositiveFinite(ratePerSecond)) {
      throw invalidBudget(
        `${path}.bucket.ratePerSecond`,
        `${path}.bucket.ratePerSecond must be a finite positive number, got ${describeValue(ratePerSecond)}`,
        ratePerSecond,
      );
    }
    if (!isPositiveFinite(capacity)) {
      throw invalidBudget(
        `${path}.bucket.capacity`,
        `${path}.bucket.capacity must be a finite positive number, got ${describeValue(capacity)}`,
        capacity,
      );
    }
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
      throw invalidBudget(`${path}.cost`, `${path}.cost must be a finite non-negative number, got ${describeValue(cost)}`, cost);
    }
  });
}

function checkHold(endpointId: string, hold: EndpointHold): void {
  if (typeof endpointId !== 'string' || endpointId.length === 0)
    throw invalidBudget('endpointId', 'endpointId must be a non-empty string', endpointId);
  if (typeof hold !== 'object' || (hold as unknown) === null)
    throw invalidBudget('hold', 'hold must be an object { kind, untilWallMs }', hold);
  if (hold.kind !== 'cooldown' && hold.kind !== 'ejected')
    throw invalidBudget('hold.kind', 'hold.kind must be "cooldown" or "ejected"', hold.kind);
  if (typeof hold.untilWallMs !== 'number' || !Number.isFinite(hold.untilWallMs))
    throw invalidBudget('hold.untilWallMs', 'hold.untilWallMs must be a finite number', hold.untilWallMs);
}

/** Runs `run` now; a throw becomes a rejected promise (the store's methods never throw synchronously). */
function settle<T>(run: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(run());
  });
}

interface BucketState {
  tokens: number;
  at: number;
}

/**
 * The in-process store: one token bucket per key (continuous refill, capacity = burst, starting full) and one hold
 * per endpoint. Atomic because JavaScript runs one take at a time; two pools given the same store share it, as two
 * replicas would share a Redis store. Holds never shorten: a later `untilWallMs` replaces an earlier one.
 */
export function createLocalBudgetStore(options: LocalBudgetStoreOptions = {}): BudgetStore {
  if (typeof options !== 'object' || (options as unknown) === null)
    throw invalidBudget('options', 'createLocalBudgetStore options must be an object', options);
  for (const name of ['now', 'wallNow'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw invalidBudget(name, `${name} must be a function`, options[name]);
  }
  const now = options.now ?? (() => performance.now());
  const wallNow = options.wallNow ?? (() => Date.now());
  const buckets = new Map<string, BucketState>();
  const heldUntil = new Map<string, EndpointHold>();

  /** The bucket refilled to `now` (its spec's latest rate and capacity apply). */
  function refill(spec: TokenBucketSpec, at: number): BucketState {
    let state = buckets.get(spec.key);
    if (state === undefined) {
      state = { tokens: spec.capacity, at };
      buckets.set(spec.key, state);
      return state;
    }
    const elapsed = Math.max(0, at - state.at);
    state.tokens = Math.min(spec.capacity, state.tokens + (elapsed * spec.ratePerSecond) / 1_000);
    state.at = Math.max(state.at, at);
    return state;
  }

  /** Tokens a take needs to be present: its cost, but never more than a full bucket. */
  const needed = (take: BudgetTake): number => Math.min(take.cost, take.bucket.capacity);

  return {
    take: (takes) =>
      settle(() => {
        checkTakes(takes);
        const at = now();
        // The same bucket may appear twice in one call: sum its costs before deciding.
        const wanted = new Map<string, { spec: TokenBucketSpec; cost: number }>();
        for (const take of takes) {
          const entry = wanted.get(take.bucket.key);
          if (entry === undefined) wanted.set(take.bucket.key, { spec: take.bucket, cost: take.cost });
          else entry.cost += take.cost;
        }
        let retryInMs = 0;
        for (const { spec, cost } of wanted.values()) {
          const state = refill(spec, at);
          const missing = needed({ bucket: spec, cost }) - state.tokens;
          if (missing > 1e-9) retryInMs = Math.max(retryInMs, Math.ceil((missing * 1_000) / spec.ratePerSecond));
        }
        const granted = retryInMs === 0;
        if (granted) for (const { spec, cost } of wanted.values()) refill(spec, at).tokens -= cost;
        const remaining = takes.map((take) => refill(take.bucket, at).tokens);
        return { granted, retryInMs, remaining };
      }),
    refund: (takes) =>
      settle(() => {
        checkTakes(takes);
        const at = now();
        for (const take of takes) {
          const state = refill(take.bucket, at);
          state.tokens = Math.min(take.bucket.capacity, state.tokens + take.cost);
        }
      }),
    hold: (endpointId, hold) =>
      settle(() => {
        checkHold(endpointId, hold);
        const current = heldUntil.get(endpointId);
        if (current === undefined || current.untilWallMs <= wallNow() || hold.untilWallMs > current.untilWallMs) {
          heldUntil.set(endpointId, { kind: hold.kind, untilWallMs: hold.untilWallMs });
        }
      }),
    holds() {
      const wall = wallNow();
      const live = new Map<string, EndpointHold>();
      for (const [id, hold] of heldUntil) {
        if (hold.untilWallMs > wall) live.set(id, hold);
        else heldUntil.delete(id);
      }
      return Promise.resolve(live);
    },
    status: () => ({ mode: 'local' }),
    close() {
      buckets.clear();
      heldUntil.clear();
      return Promise.resolve();
    },
  };
}
