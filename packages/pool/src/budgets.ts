import { XError, abortedError, describeValue } from '@x/errors';
import { createLocalBudgetStore } from './budget-store.js';
import type { BudgetStore, BudgetTake, EndpointHold, TokenBucketSpec } from './budget-store.js';
import { stateOf } from './core.js';
import type { PoolCore } from './core.js';
import { probeDue } from './endpoint.js';
import type { EndpointState, HealthState } from './endpoint.js';
import type { EndpointConfig, PoolOptions, ResolvedSettings } from './options.js';
import { DEFAULT_BURST_RESERVE, invalidOptions } from './options.js';
import type { BudgetRequest } from './pool.js';
import type { RankedEndpoint } from './selection.js';
import type { AttemptResult } from './window.js';

/** What a race or hedge call ran as: redundancy degrades race → hedge → single attempt when budgets are tight. */
export type Redundancy = 'race' | 'hedge' | 'single';

/** How budgets shaped one `execute` call (in `onSelection`, and on race and hedge results of a pool with budgets). */
export interface BudgetReport {
  /** The strategy the caller asked for. */
  readonly strategy: 'race' | 'hedge' | 'consensus' | 'dual' | 'scatter';
  /** For race and hedge calls: what ran (`single`: one attempt at a time, the next only after a failure). */
  readonly redundancy?: Redundancy;
  /** True when `redundancy` is less than the strategy asked for. */
  readonly degraded: boolean;
  /** Time spent waiting for a budget before the call started (0 when none). */
  readonly waitedMs: number;
  /** Endpoints that were candidates by health but left out for lack of budget. */
  readonly withoutHeadroom: ReadonlyArray<string>;
}

declare module '@x/errors' {
  interface ErrorContexts {
    /**
     * No endpoint's budget admits the call (`onBudgetExhausted: 'fail'`, or waiting would pass the deadline).
     * `retryInMs`: when the first budget is expected to admit it (0 when only concurrency caps block);
     * `endpoints`: the ids whose budgets were asked; `waitedMs`: time already waited.
     */
    POOL_BUDGET_EXHAUSTED: { readonly retryInMs: number; readonly endpoints: ReadonlyArray<string>; readonly waitedMs: number };
    /** A failover or hedged attempt whose endpoint's budget refused it when it was due to start (it was never sent). */
    POOL_BUDGET_REFUSED: { readonly endpointId: string; readonly retryInMs: number };
  }
}

interface Estimate {
  readonly spec: TokenBucketSpec;
  tokens: number;
  at: number;
}

/** One endpoint's declared budget and this pool's view of it. */
interface EndpointBudgetState {
  readonly id: string;
  readonly requests: Estimate;
  readonly credits: (Estimate & { readonly costs: Readonly<Record<string, number>>; readonly defaultCost: number }) | undefined;
  readonly maxConcurrency: number;
  /** Upfront grants of calls that have not started their attempt here yet (they count toward `maxConcurrency`). */
  reserved: number;
  /** Attempts granted lately, decayed with a one-second time constant: the recent rate, to compare with `requestsPerSecond`. */
  usage: number;
  usageAt: number;
}

const USAGE_TAU_MS = 1_000;

function decayedUsage(budget: EndpointBudgetState, at: number): number {
  return budget.usage * Math.exp(-Math.max(0, at - budget.usageAt) / USAGE_TAU_MS);
}

/** The cost of one call: its method and/or explicit credit cost. */
export interface CallCost {
  readonly method: string | undefined;
  /** Credits of one attempt, over what its method (or methods) cost. */
  readonly cost: number | undefined;
  /** Requests one attempt counts as at the provider (an upstream batch of n calls: n). Default 1. */
  readonly requests?: number;
  /** The methods of such a batch: its credits are the sum of theirs. */
  readonly methods?: ReadonlyArray<string>;
}

export interface Budgets {
  /** False for a pool without any budget and without a `budgetStore`: execute takes the old path, untouched. */
  readonly active: boolean;
  readonly store: BudgetStore;
  /** The endpoints, ranked for a budgeted call: no headroom → unavailable; available ones by score ÷ headroom. */
  rank(ranked: ReadonlyArray<RankedEndpoint<unknown>>, cost: CallCost): Array<RankedEndpoint<unknown>>;
  headroom(state: EndpointState<unknown>, cost: CallCost): number;
  /** Estimated time until the endpoint's buckets admit one attempt (0: now; undefined: only a free concurrency slot will tell). */
  retryEstimate(state: EndpointState<unknown>, cost: CallCost): number | undefined;
  /** Whether the cost fits the endpoint's buckets at all (a larger one is granted only as debt, once a bucket is full). */
  fits(id: string, cost: CallCost): boolean;
  /** Takes one attempt's tokens (concurrency first, then the store); a grant is reserved until `start` or `release`. */
  take(id: string, cost: CallCost): Promise<{ granted: boolean; retryInMs: number | undefined }>;
  /** A reserved grant's attempt starts (no longer reserved; `inFlight` counts it from now). */
  start(id: string): void;
  /** A reserved grant whose attempt never started: its tokens go back. */
  release(id: string, cost: CallCost): void;
  /** Applies the store's holds to selection, at most once a second. */
  refreshHolds(core: PoolCore<unknown>): Promise<void>;
  /** After an attempt was recorded: publishes a new cool-down or ejection, wakes calls waiting for a concurrency slot. */
  readonly afterRecord: (state: EndpointState<unknown>, result: AttemptResult, healthBefore: HealthState) => void;
  /** Waits until `ms` passed (undefined: until a slot frees) or an attempt finishes; rejects when `signal` aborts. */
  wait(ms: number | undefined, signal: AbortSignal | undefined): Promise<void>;
  readonly counters: BudgetCounters;
  /** Estimated tokens left in each bucket of each budgeted endpoint, for metrics. */
  tokens(): Array<{ endpoint: string; bucket: 'requests' | 'credits'; tokens: number }>;
}

interface BudgetCounters {
  readonly refused: Map<string, number>;
  /** `from>to` → steps. */
  readonly degraded: Map<string, number>;
  waits: number;
  waitedMs: number;
  exhausted: number;
}

const HOLDS_REFRESH_MS = 1_000;

function estimateOf(key: string, ratePerSecond: number, capacity: number, at: number): Estimate {
  return { spec: { key, ratePerSecond, capacity }, tokens: capacity, at };
}

function current(estimate: Estimate, now: number): number {
  const { ratePerSecond, capacity } = estimate.spec;
  return Math.min(capacity, estimate.tokens + (Math.max(0, now - estimate.at) * ratePerSecond) / 1_000);
}

function budgetStateOf(config: EndpointConfig<unknown>, at: number): EndpointBudgetState | undefined {
  const { budget } = config;
  if (budget === undefined) return undefined;
  const credits = budget.credits;
  const reserve = budget.burstReserve ?? DEFAULT_BURST_RESERVE;
  const capacityOf = (burst: number): number => Math.max(1, Math.ceil(burst * (1 - reserve)));
  return {
    id: config.id,
    requests: estimateOf(
      `${config.id}:requests`,
      budget.requestsPerSecond,
      capacityOf(budget.burst ?? Math.max(1, budget.requestsPerSecond)),
      at,
    ),
    credits:
      credits === undefined
        ? undefined
        : {
            ...estimateOf(`${config.id}:credits`, credits.perSecond, capacityOf(credits.burst ?? credits.perSecond), at),
            costs: credits.costs ?? {},
            defaultCost: credits.defaultCost ?? 1,
          },
    maxConcurrency: budget.maxConcurrency ?? Number.POSITIVE_INFINITY,
    reserved: 0,
    usage: 0,
    usageAt: at,
  };
}

function creditCost(budget: EndpointBudgetState, cost: CallCost): number {
  const credits = budget.credits;
  if (credits === undefined) return 0;
  if (cost.cost !== undefined) return cost.cost;
  const of = (method: string | undefined): number =>
    method !== undefined && Object.hasOwn(credits.costs, method) ? (credits.costs[method] as number) : credits.defaultCost;
  if (cost.methods !== undefined) return cost.methods.reduce((sum, method) => sum + of(method), 0);
  return of(cost.method);
}

function takesOf(budget: EndpointBudgetState, cost: CallCost): BudgetTake[] {
  const takes: BudgetTake[] = [{ bucket: budget.requests.spec, cost: cost.requests ?? 1 }];
  if (budget.credits !== undefined) takes.push({ bucket: budget.credits.spec, cost: creditCost(budget, cost) });
  return takes;
}

export function createBudgets(
  settings: ResolvedSettings,
  endpoints: ReadonlyArray<EndpointConfig<unknown>>,
  options: PoolOptions<unknown>,
  core: () => PoolCore<unknown>,
): Budgets {
  const { now, wallNow } = settings;
  const created = now();
  const byId = new Map<string, EndpointBudgetState>();
  for (const config of endpoints) {
    const state = budgetStateOf(config, created);
    if (state !== undefined) byId.set(config.id, state);
  }
  const store = options.budgetStore ?? createLocalBudgetStore({ now, wallNow });
  const active = byId.size > 0 || options.budgetStore !== undefined;
  const counters: BudgetCounters = { refused: new Map(), degraded: new Map(), waits: 0, waitedMs: 0, exhausted: 0 };
  const waiters = new Set<() => void>();
  let holdsCheckedAt = Number.NEGATIVE_INFINITY;

  /** One token or slot came free: the longest-waiting call tries again (a set iterates in insertion order). Waking all would stampede. */
  function wakeOne(): void {
    const first = waiters.values().next();
    if (first.done !== true) first.value();
  }

  function headroomOf(budget: EndpointBudgetState | undefined, state: EndpointState<unknown>, cost: CallCost, at: number): number {
    if (budget === undefined) return 1;
    const slots = budget.maxConcurrency - state.inFlight - budget.reserved;
    if (slots <= 0) return 0;
    const requests = current(budget.requests, at);
    if (requests < Math.min(1, budget.requests.spec.capacity)) return 0;
    let share = Math.min(
      requests / budget.requests.spec.capacity,
      Number.isFinite(budget.maxConcurrency) ? slots / budget.maxConcurrency : 1,
    );
    if (budget.credits !== undefined) {
      const credits = current(budget.credits, at);
      if (credits < Math.min(creditCost(budget, cost), budget.credits.spec.capacity)) return 0;
      share = Math.min(share, credits / budget.credits.spec.capacity);
    }
    return share;
  }

  function publish(id: string, hold: EndpointHold): void {
    store.hold(id, hold).catch(() => {
      // A store that cannot publish keeps the hold local: the pool itself already applied it.
    });
  }

  return {
    active,
    store,
    counters,
    headroom: (state, cost) => headroomOf(byId.get(state.endpoint.id), state, cost, now()),
    retryEstimate(state, cost) {
      const budget = byId.get(state.endpoint.id);
      if (budget === undefined) return 0;
      if (state.inFlight + budget.reserved >= budget.maxConcurrency) return undefined;
      const at = now();
      const missing = (estimate: Estimate, needed: number): number =>
        Math.max(0, Math.ceil(((Math.min(needed, estimate.spec.capacity) - current(estimate, at)) * 1_000) / estimate.spec.ratePerSecond));
      const requests = missing(budget.requests, 1);
      return budget.credits === undefined ? requests : Math.max(requests, missing(budget.credits, creditCost(budget, cost)));
    },
    rank(ranked, cost) {
      const at = now();
      const withHeadroom = ranked.map((entry) => {
        const budget = byId.get(entry.state.endpoint.id);
        const share = entry.available ? headroomOf(budget, entry.state, cost, at) : 0;
        // Recent use against the limit: among equally good endpoints, each gets traffic in proportion to its limit.
        const load = budget === undefined ? 0 : decayedUsage(budget, at) / ((budget.requests.spec.ratePerSecond * USAGE_TAU_MS) / 1_000);
        return { entry, share, key: (entry.score * (1 + load)) / Math.max(share, 1e-9), available: entry.available && share > 0 };
      });
      const probeClass = (state: EndpointState<unknown>): number =>
        state.health !== 'probing' ? 1 : probeDue(state, at, settings) ? 0 : 2;
      const available = withHeadroom
        .filter((item) => item.available)
        .sort(
          (a, b) => probeClass(a.entry.state) - probeClass(b.entry.state) || a.key - b.key || a.entry.state.order - b.entry.state.order,
        );
      const rest = withHeadroom.filter((item) => !item.available);
      return [...available, ...rest].map(({ entry, available: ok }) => ({ state: entry.state, score: entry.score, available: ok }));
    },
    fits(id, cost) {
      const budget = byId.get(id);
      if (budget === undefined) return true;
      if ((cost.requests ?? 1) > budget.requests.spec.capacity) return false;
      return budget.credits === undefined || creditCost(budget, cost) <= budget.credits.spec.capacity;
    },
    async take(id, cost) {
      const budget = byId.get(id);
      if (budget === undefined) return { granted: true, retryInMs: 0 };
      const state = core().byId.get(id) as EndpointState<unknown>;
      if (state.inFlight + budget.reserved >= budget.maxConcurrency) {
        counters.refused.set(id, (counters.refused.get(id) ?? 0) + 1);
        return { granted: false, retryInMs: undefined };
      }
      budget.reserved++;
      let grant;
      try {
        grant = await store.take(takesOf(budget, cost));
      } catch (error) {
        budget.reserved--;
        throw error;
      }
      const at = now();
      budget.requests.tokens = grant.remaining[0] ?? budget.requests.tokens;
      budget.requests.at = at;
      if (budget.credits !== undefined) {
        budget.credits.tokens = grant.remaining[1] ?? budget.credits.tokens;
        budget.credits.at = at;
      }
      if (!grant.granted) {
        budget.reserved--;
        counters.refused.set(id, (counters.refused.get(id) ?? 0) + 1);
        return { granted: false, retryInMs: grant.retryInMs };
      }
      budget.usage = decayedUsage(budget, at) + (cost.requests ?? 1);
      budget.usageAt = at;
      return { granted: true, retryInMs: 0 };
    },
    start(id) {
      const budget = byId.get(id);
      if (budget !== undefined) budget.reserved--;
    },
    release(id, cost) {
      const budget = byId.get(id);
      if (budget === undefined) return;
      budget.reserved--;
      const takes = takesOf(budget, cost);
      const at = now();
      budget.usage = Math.max(0, decayedUsage(budget, at) - 1);
      budget.usageAt = at;
      budget.requests.tokens = Math.min(budget.requests.spec.capacity, current(budget.requests, at) + (takes[0]?.cost ?? 1));
      budget.requests.at = at;
      if (budget.credits !== undefined) {
        budget.credits.tokens = Math.min(budget.credits.spec.capacity, current(budget.credits, at) + (takes[1]?.cost ?? 0));
        budget.credits.at = at;
      }
      store.refund(takes).catch(() => {
        // Tokens a store fails to take back are lost until the bucket refills: never more than the budget is sent.
      });
      wakeOne();
    },
    async refreshHolds(poolCore) {
      const at = now();
      if (at - holdsCheckedAt < HOLDS_REFRESH_MS) return;
      holdsCheckedAt = at;
      let holds: ReadonlyMap<string, EndpointHold>;
      try {
        holds = await store.holds();
      } catch {
        return; // The store is unreachable: local cool-downs and health go on alone.
      }
      const afterAt = now();
      const wall = wallNow();
      for (const [id, hold] of holds) {
        const state = poolCore.byId.get(id);
        if (state === undefined) continue;
        // Wall-clock holds become monotonic ones: an endpoint held elsewhere is left out here until then.
        const until = afterAt + Math.min(hold.untilWallMs - wall, settings.cooldown.maxMs + settings.ejection.maxMs);
        if (until > afterAt) state.cooldownUntil = Math.max(state.cooldownUntil, until);
      }
    },
    afterRecord(state, result, healthBefore) {
      const at = now();
      const wall = wallNow();
      if (result === 'rate-limited' && state.cooldownUntil > at) {
        publish(state.endpoint.id, { kind: 'cooldown', untilWallMs: wall + (state.cooldownUntil - at) });
      }
      if (state.health === 'ejected' && healthBefore !== 'ejected') {
        publish(state.endpoint.id, { kind: 'ejected', untilWallMs: wall + (state.ejectedUntil - at) });
      }
      // A finished attempt frees a concurrency slot: calls waiting for one try again (token waits have their own timer).
      if (Number.isFinite(byId.get(state.endpoint.id)?.maxConcurrency ?? Number.POSITIVE_INFINITY)) wakeOne();
    },
    wait(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          waiters.delete(wake);
          signal?.removeEventListener('abort', onAbort);
        };
        const wake = (): void => {
          done();
          resolve();
        };
        const onAbort = (): void => {
          done();
          reject(abortedError(signal?.reason));
        };
        if (signal?.aborted) {
          reject(abortedError(signal.reason));
          return;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.add(wake);
        if (ms !== undefined) timer = setTimeout(wake, ms);
      });
    },
    tokens() {
      const at = now();
      const out: Array<{ endpoint: string; bucket: 'requests' | 'credits'; tokens: number }> = [];
      for (const budget of byId.values()) {
        out.push({ endpoint: budget.id, bucket: 'requests', tokens: current(budget.requests, at) });
        if (budget.credits !== undefined) out.push({ endpoint: budget.id, bucket: 'credits', tokens: current(budget.credits, at) });
      }
      return out;
    },
  };
}

/** `POOL_BUDGET_EXHAUSTED`: the error a call fails with when no budget admits it. */
export function budgetExhausted(retryInMs: number, endpoints: ReadonlyArray<string>, waitedMs: number, why: string): XError {
  return new XError({
    code: 'POOL_BUDGET_EXHAUSTED',
    category: 'rate-limit',
    message: `Every endpoint's budget is exhausted: ${why}`,
    context: { retryInMs, endpoints, waitedMs },
  });
}

/** `POOL_BUDGET_REFUSED`: a later attempt (failover, hedge) that its endpoint's budget did not admit; it was never sent. */
export function budgetRefused(endpointId: string, retryInMs: number): XError {
  return new XError({
    code: 'POOL_BUDGET_REFUSED',
    category: 'rate-limit',
    message: `The budget of endpoint ${endpointId} has no room for another attempt now (retry in ${retryInMs} ms); nothing was sent`,
    context: { endpointId, retryInMs },
  });
}

/** `Pool.takeBudget`: checks the request, takes its tokens, and hands the grant straight to the attempt the caller starts. */
export async function takeBudgetOf(
  core: PoolCore<unknown>,
  budgets: Budgets,
  endpointId: string,
  request: BudgetRequest = {},
): Promise<{ readonly granted: boolean; readonly retryInMs: number | undefined }> {
  stateOf(core, endpointId);
  if (typeof request !== 'object' || (request as unknown) === null)
    throw invalidOptions('request', 'takeBudget: request must be an object { requests?, methods?, cost? }', request);
  const { requests, methods, cost } = request;
  if (requests !== undefined && !(Number.isInteger(requests) && requests >= 1))
    throw invalidOptions('requests', `takeBudget: requests must be an integer ≥ 1, got ${describeValue(requests)}`, requests);
  if (methods !== undefined && !(Array.isArray(methods) && methods.every((method) => typeof method === 'string')))
    throw invalidOptions('methods', 'takeBudget: methods must be an array of method names', methods);
  if (cost !== undefined && !(typeof cost === 'number' && Number.isFinite(cost) && cost >= 0))
    throw invalidOptions('cost', `takeBudget: cost must be a number ≥ 0, got ${describeValue(cost)}`, cost);
  if (!budgets.active) return { granted: true, retryInMs: 0 };
  const wanted: CallCost = { method: undefined, cost, requests, methods };
  // Several requests sent at once must fit the bucket: granted as debt, they would reach the provider beyond its burst.
  if (!budgets.fits(endpointId, wanted)) return { granted: false, retryInMs: undefined };
  const answer = await budgets.take(endpointId, wanted);
  if (answer.granted) budgets.start(endpointId);
  return answer;
}
