import { abortedError } from '@x/errors';
import type { AttemptEvent } from '@x/rpc-strategies';
import type { BudgetReport } from './budgets.js';
import { beginAttempt, rankEndpoints, stateOf } from './core.js';
import type { AttemptTracker, PoolCore } from './core.js';
import type { EndpointState } from './endpoint.js';
import type { ExecuteOptions, PoolAttemptFn } from './execute.js';
import type { PoolEndpoint } from './options.js';
import { checkCount, pairsFrom, selectFrom } from './pool.js';
import type { RankedEndpoint } from './selection.js';

/** One `execute` call, ready to run: its candidates (or pairs) and the wrappers that record each attempt. */
export interface PreparedCall<Target, T> {
  readonly candidates: ReadonlyArray<PoolEndpoint<Target>>;
  readonly pairs: ReadonlyArray<{ primary: PoolEndpoint<Target>; secondary?: PoolEndpoint<Target> }>;
  /** The attempt function counting each attempt in flight (and taking its probe reservation). */
  readonly wrap: (attempt: PoolAttemptFn<Target, T>) => PoolAttemptFn<Target, T>;
  /** Records each attempt's outcome, then tells the caller's `onAttempt`. */
  readonly onAttempt: (event: AttemptEvent<PoolEndpoint<Target>, T>) => void;
  /** Gives back the probe slots of endpoints the call never started. */
  readonly releaseReservations: () => void;
}

/** The endpoints one call runs on, and what budgets decided for it (absent when the pool has no budgets). */
export interface CallPlan<Target> {
  readonly chosen: ReadonlyArray<RankedEndpoint<Target>>;
  readonly pairs: ReadonlyArray<{ primary: PoolEndpoint<Target>; secondary?: PoolEndpoint<Target> }>;
  readonly degraded: boolean;
  readonly budget?: BudgetReport;
  /** Before an attempt starts: undefined to start it now, or a promise that rejects when its budget refuses it. */
  readonly beforeStart?: (endpoint: PoolEndpoint<Target>, signal: AbortSignal) => Promise<void> | undefined;
  /** Synchronously as the attempt starts (its budget grant becomes an attempt in flight). */
  readonly onStart?: (endpoint: PoolEndpoint<Target>) => void;
}

/** The pool's usual choice of candidates (or pairs, for `dual`): ranked by health and score. */
export function chooseCandidates<Target, T>(core: PoolCore<Target>, options: ExecuteOptions<Target, T>): CallPlan<Target> {
  if (options.strategy === 'dual') {
    checkCount('maxCandidates', options.maxCandidates, 1);
    const selection = pairsFrom(core, { maxPairs: options.maxCandidates });
    return { chosen: selection.chosen, pairs: [...selection.pairs], degraded: selection.degraded };
  }
  const selection = selectFrom(rankEndpoints(core), {
    maxCandidates: options.maxCandidates,
    minCandidates: options.minCandidates ?? quorumOf(options),
  });
  return { chosen: selection.chosen, pairs: [], degraded: selection.degraded };
}

/** The count quorum of a consensus call (the fewest candidates it can decide with), else 1. */
export function quorumOf<Target, T>(options: ExecuteOptions<Target, T>): number {
  return options.strategy === 'consensus' && options.tally === undefined && typeof options.quorum === 'number' ? options.quorum : 1;
}

/** Reserves probe slots and builds the recording wrappers of one call over its planned candidates. */
export function prepareCall<Target, T>(
  core: PoolCore<Target>,
  options: ExecuteOptions<Target, T>,
  plan: CallPlan<Target> = chooseCandidates(core, options),
): PreparedCall<Target, T> {
  const { chosen, pairs, degraded } = plan;
  const candidates = chosen.map((entry) => entry.state.endpoint);

  // A probing endpoint admits only `probeConcurrency` attempts; a call that chose it holds a slot
  // until it starts the attempt there (or ends without doing so), so concurrent calls cannot overrun it.
  const reservations = new Map<string, EndpointState<Target>>();
  for (const entry of chosen) {
    if (entry.state.health === 'probing' && entry.available) {
      entry.state.probeReservations++;
      reservations.set(entry.state.endpoint.id, entry.state);
    }
  }
  const trackers = new Map<number, AttemptTracker>();
  try {
    options.onSelection?.(
      plan.budget === undefined ? { endpoints: candidates, degraded } : { endpoints: candidates, degraded, budget: plan.budget },
    );
  } catch {
    // An observer must not change the call (the same rule as the strategies' onAttempt).
  }

  const userOnAttempt = options.onAttempt;
  return {
    candidates,
    pairs,
    wrap: (attempt: PoolAttemptFn<Target, T>): PoolAttemptFn<Target, T> => {
      const begin: PoolAttemptFn<Target, T> = (endpoint, context) => {
        const state = stateOf(core, endpoint.id);
        const reserved = reservations.get(endpoint.id);
        if (reserved !== undefined) {
          reserved.probeReservations--;
          reservations.delete(endpoint.id);
        }
        plan.onStart?.(endpoint);
        trackers.set(context.attempt, beginAttempt(core, state));
        return attempt(endpoint, context);
      };
      return (endpoint, context) => {
        const gate = plan.beforeStart?.(endpoint, context.signal);
        if (gate === undefined) return begin(endpoint, context);
        return gate.then(() => {
          // Aborted while its budget was being taken: never started (its grant goes back at the end of the call).
          if (context.signal.aborted) throw abortedError(context.signal.reason);
          return begin(endpoint, context);
        });
      };
    },
    onAttempt: (event: AttemptEvent<PoolEndpoint<Target>, T>): void => {
      try {
        const tracker = trackers.get(event.attempt);
        trackers.delete(event.attempt);
        tracker?.finish(event.outcome, { abortedAsLoser: event.abortedAsLoser });
      } finally {
        userOnAttempt?.(event);
      }
    },
    releaseReservations: (): void => {
      for (const state of reservations.values()) state.probeReservations--;
      reservations.clear();
    },
  };
}
