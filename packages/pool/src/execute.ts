import { abortedError, describeValue } from '@x/errors';
import type { AttemptFn, XError } from '@x/errors';
import { DEFAULT_HEDGE_BUDGET, consensus, createHedgeBudget, dual, hedge, race, scatter } from '@x/rpc-strategies';
import type {
  AttemptEvent,
  ConsensusTally,
  ConsensusVerdict,
  DualBalancer,
  DualResult,
  HedgeBudget,
  HedgeBudgetOptions,
  HedgeDelay,
  HedgeResult,
  Quorum,
  RaceResult,
  ScatterOutcome,
  ScatterProgress,
} from '@x/rpc-strategies';
import { stateOf } from './core.js';
import type { PoolCore } from './core.js';
import { checkExhaustedPolicy, invalidOptions } from './options.js';
import type { BudgetExhaustedPolicy, PoolEndpoint } from './options.js';
import { hedgeDelayOf } from './pool.js';
import type { Selection } from './pool.js';
import { planWithBudgets } from './budget-call.js';
import type { BudgetReport, Budgets, Redundancy } from './budgets.js';
import { prepareCall } from './prepare-call.js';
import type { PreparedCall } from './prepare-call.js';

/** What `execute` runs against each chosen endpoint. */
export type PoolAttemptFn<Target, T> = AttemptFn<PoolEndpoint<Target>, T>;

export interface ExecuteCommonOptions<Target, T> {
  /** Cancels the whole call; an already-aborted signal rejects at once and selects nothing. */
  readonly signal?: AbortSignal;
  /** Per attempt (the strategy's `STRATEGY_ATTEMPT_TIMEOUT`, recorded as a timeout of that endpoint). */
  readonly attemptTimeoutMs?: number;
  /** One deadline for the whole call. */
  readonly deadlineMs?: number;
  /** Called once per attempt, after the pool has recorded it. */
  readonly onAttempt?: (event: AttemptEvent<PoolEndpoint<Target>, T>) => void;
  /** Which failures let other candidates win (the strategies' default when absent). */
  readonly shouldFailover?: (error: XError) => boolean;
  /** At most this many candidates (for `dual`: pairs). Default: every available endpoint. */
  readonly maxCandidates?: number;
  /**
   * At least this many candidates: the least bad unavailable endpoints fill up when too few are
   * available. Default 1 (for `consensus` with a count quorum: the quorum).
   */
  readonly minCandidates?: number;
  /**
   * Told which endpoints were chosen, whether the choice had to fall back (degraded), and, in a pool with budgets,
   * what the budgets decided (`budget`). Exceptions it throws are ignored.
   */
  readonly onSelection?: (selection: Selection<Target>) => void;
  /** The method called, for credit budgets (`budget.credits.costs`). */
  readonly method?: string;
  /** Credits one attempt of this call costs (overrides the cost of `method`). */
  readonly cost?: number;
  /** When no endpoint's budget admits the call: wait for one (bounded by `deadlineMs` and `signal`) or fail now. Default: the pool's. */
  readonly onBudgetExhausted?: BudgetExhaustedPolicy;
}

export interface RaceExecuteOptions<Target, T> extends ExecuteCommonOptions<Target, T> {
  readonly strategy: 'race';
}

export interface HedgeExecuteOptions<Target, T> extends ExecuteCommonOptions<Target, T> {
  readonly strategy: 'hedge';
  /** Overrides the learned per-endpoint delay (each endpoint's own latency quantile). */
  readonly hedgeDelayMs?: HedgeDelay<PoolEndpoint<Target>>;
  /** Most attempts per call, counting failovers. Default: every candidate. */
  readonly maxAttempts?: number;
}

export interface ConsensusExecuteOptions<Target, T> extends ExecuteCommonOptions<Target, T> {
  readonly strategy: 'consensus';
  readonly quorum?: Quorum;
  readonly normalize?: (value: T) => string;
  readonly weight?: (endpoint: PoolEndpoint<Target>, index: number) => number;
  readonly maxParticipants?: number;
  readonly tally?: never;
}

/** `consensus` counted by a tally of the caller's own (see `ConsensusTally` in `@x/rpc-strategies`). */
export interface TallyExecuteOptions<Target, T, V> extends ExecuteCommonOptions<Target, T> {
  readonly strategy: 'consensus';
  readonly tally: ConsensusTally<PoolEndpoint<Target>, T, V>;
  readonly maxParticipants?: number;
}

export interface DualExecuteOptions<Target, T> extends ExecuteCommonOptions<Target, T> {
  readonly strategy: 'dual';
  /** `'race'`: all pairs at once; `'balance'`: one pair per call, rotating through the pool's own balancer. Default `'race'`. */
  readonly across?: 'race' | 'balance';
}

export interface ScatterExecuteOptions<Target, T> extends ExecuteCommonOptions<Target, T> {
  readonly strategy: 'scatter';
  readonly stopWhen?: (outcomes: ReadonlyArray<ScatterOutcome<T> | undefined>, progress: ScatterProgress) => boolean;
}

export type ExecuteOptions<Target, T> =
  | RaceExecuteOptions<Target, T>
  | HedgeExecuteOptions<Target, T>
  | ConsensusExecuteOptions<Target, T>
  | DualExecuteOptions<Target, T>
  | ScatterExecuteOptions<Target, T>;

/** A race's result; in a pool with budgets, `budget` says whether it ran as a race or degraded to a hedge or single attempt. */
export type PoolRaceResult<Target, T> = RaceResult<PoolEndpoint<Target>, T> & { readonly budget?: BudgetReport };

/** A hedge's result; in a pool with budgets, `budget` says whether it degraded to a single attempt. */
export type PoolHedgeResult<Target, T> = HedgeResult<PoolEndpoint<Target>, T> & { readonly budget?: BudgetReport };

/** The overloads of `Pool.execute`: the result type follows the strategy. */
export interface Execute<Target> {
  <T>(attempt: PoolAttemptFn<Target, T>, options: RaceExecuteOptions<Target, T>): Promise<PoolRaceResult<Target, T>>;
  <T>(attempt: PoolAttemptFn<Target, T>, options: HedgeExecuteOptions<Target, T>): Promise<PoolHedgeResult<Target, T>>;
  <T>(attempt: PoolAttemptFn<Target, T>, options: ConsensusExecuteOptions<Target, T>): Promise<ConsensusVerdict<PoolEndpoint<Target>, T>>;
  <T, V>(attempt: PoolAttemptFn<Target, T>, options: TallyExecuteOptions<Target, T, V>): Promise<V>;
  <T>(attempt: PoolAttemptFn<Target, T>, options: DualExecuteOptions<Target, T>): Promise<DualResult<PoolEndpoint<Target>, T>>;
  <T>(attempt: PoolAttemptFn<Target, T>, options: ScatterExecuteOptions<Target, T>): Promise<Array<ScatterOutcome<T>>>;
  /** For a strategy chosen at run time: the result is the union of the strategies' results. */
  <T>(attempt: PoolAttemptFn<Target, T>, options: ExecuteOptions<Target, T>): Promise<ExecuteResult<Target, T>>;
}

export type ExecuteResult<Target, T> =
  | PoolRaceResult<Target, T>
  | PoolHedgeResult<Target, T>
  | ConsensusVerdict<PoolEndpoint<Target>, T>
  | DualResult<PoolEndpoint<Target>, T>
  | Array<ScatterOutcome<T>>;

const STRATEGIES: readonly string[] = ['race', 'hedge', 'consensus', 'dual', 'scatter'];

/** The pool's hedge budget unless `hedgeBudget` says otherwise: `@x/rpc-strategies`' one default. */
export { DEFAULT_HEDGE_BUDGET };

/** What one pool shares across its `execute` calls. */
export interface ExecuteShared {
  readonly hedgeBudget: HedgeBudget;
  readonly balancer: DualBalancer;
  readonly budgets: Budgets;
}

/** The pool's hedge budget: `@x/rpc-strategies`' defaults, the pool's clock, then the caller's `hedgeBudget` options. */
export function poolHedgeBudget(budgetOptions: HedgeBudgetOptions | undefined, now: () => number): HedgeBudget {
  if (budgetOptions !== undefined && (typeof budgetOptions !== 'object' || (budgetOptions as unknown) === null)) {
    throw invalidOptions('hedgeBudget', 'hedgeBudget must be an object of createHedgeBudget options', budgetOptions);
  }
  return createHedgeBudget({ ...DEFAULT_HEDGE_BUDGET, now, ...budgetOptions });
}

/** `Pool.execute`: checks the call, chooses its candidates, and runs the strategy over them, recording every attempt. */
export async function executeOn<Target, T>(
  core: PoolCore<Target>,
  shared: ExecuteShared,
  attempt: PoolAttemptFn<Target, T>,
  options: ExecuteOptions<Target, T>,
): Promise<unknown> {
  if (typeof attempt !== 'function') throw invalidOptions('attempt', 'execute: attempt must be a function', attempt);
  if (typeof options !== 'object' || (options as unknown) === null)
    throw invalidOptions('options', 'execute: options { strategy, … } are required', options);
  if (!STRATEGIES.includes(options.strategy)) {
    throw invalidOptions(
      'strategy',
      `execute: strategy must be one of ${STRATEGIES.join(', ')}, got ${describeValue(options.strategy)}`,
      options.strategy,
    );
  }
  for (const hook of ['onSelection', 'onAttempt'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      throw invalidOptions(hook, `execute: ${hook} must be a function`, options[hook]);
  }
  if (options.signal?.aborted) throw abortedError(options.signal.reason);

  for (const [name, value] of [
    ['method', options.method],
    ['cost', options.cost],
  ] as const) {
    if (value === undefined) continue;
    if (name === 'method' ? typeof value !== 'string' : typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw invalidOptions(name, `execute: ${name} must be ${name === 'method' ? 'a string' : 'a finite non-negative number'}`, value);
  }
  if (options.onBudgetExhausted !== undefined) checkExhaustedPolicy('onBudgetExhausted', options.onBudgetExhausted);

  if (!shared.budgets.active) {
    const call = prepareCall<Target, T>(core, options);
    try {
      return await runStrategy(core, shared, call, call.wrap(attempt), options, options.strategy, options.deadlineMs);
    } finally {
      call.releaseReservations();
    }
  }
  await shared.budgets.refreshHolds(core);
  const { plan, redundancy, waitedMs, settle } = await planWithBudgets(core, shared.budgets, options);
  const call = prepareCall<Target, T>(core, options, plan);
  try {
    // The wait came out of the call's deadline (never all of it: a wait past the deadline fails instead).
    const deadlineMs = options.deadlineMs === undefined ? undefined : Math.max(1, options.deadlineMs - waitedMs);
    const result = await runStrategy(core, shared, call, call.wrap(attempt), options, redundancy ?? options.strategy, deadlineMs);
    return redundancy === undefined ? result : { ...(result as object), budget: plan.budget };
  } finally {
    call.releaseReservations();
    settle();
  }
}

/** Runs `ran` (the strategy asked for, or what a race or hedge degraded to) over the prepared call. */
async function runStrategy<Target, T>(
  core: PoolCore<Target>,
  shared: ExecuteShared,
  call: PreparedCall<Target, T>,
  tracked: PoolAttemptFn<Target, T>,
  options: ExecuteOptions<Target, T>,
  ran: ExecuteOptions<Target, T>['strategy'] | Redundancy,
  deadlineMs: number | undefined,
): Promise<unknown> {
  const { settings } = core;
  const common = {
    signal: options.signal,
    attemptTimeoutMs: options.attemptTimeoutMs,
    deadlineMs,
    shouldFailover: options.shouldFailover,
    onAttempt: call.onAttempt,
  };
  const learnedDelay = (endpoint: PoolEndpoint<Target>): number => hedgeDelayOf(stateOf(core, endpoint.id), settings, settings.now());
  switch (ran) {
    case 'race':
      return await race(call.candidates, tracked, common);
    case 'hedge':
    case 'single': {
      const asked = options.strategy === 'hedge' ? options : undefined;
      return await hedge(call.candidates, tracked, {
        ...common,
        // A single attempt: the next candidate starts only after a failure, never on a delay.
        hedgeDelayMs: ran === 'single' ? () => Number.POSITIVE_INFINITY : (asked?.hedgeDelayMs ?? learnedDelay),
        maxAttempts: asked?.maxAttempts,
        budget: shared.hedgeBudget,
      });
    }
    case 'consensus': {
      const consensusOptions = options as ConsensusExecuteOptions<Target, T>;
      if (consensusOptions.tally !== undefined) {
        const { tally } = options as unknown as TallyExecuteOptions<Target, T, unknown>;
        return await consensus(call.candidates, tracked, { ...common, tally, maxParticipants: consensusOptions.maxParticipants });
      }
      return await consensus(call.candidates, tracked, {
        ...common,
        quorum: consensusOptions.quorum,
        normalize: consensusOptions.normalize,
        weight: consensusOptions.weight,
        maxParticipants: consensusOptions.maxParticipants,
      });
    }
    case 'dual':
      return await dual(call.pairs, tracked, {
        ...common,
        across: (options as DualExecuteOptions<Target, T>).across,
        balancer: shared.balancer,
      });
    case 'scatter':
      return await scatter(call.candidates, tracked, { ...common, stopWhen: (options as ScatterExecuteOptions<Target, T>).stopWhen });
  }
}
