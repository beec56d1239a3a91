import type { AttemptEvent } from '@x/rpc-strategies';
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

/** Chooses the candidates, reserves probe slots, and builds the recording wrappers of one call. */
export function prepareCall<Target, T>(core: PoolCore<Target>, options: ExecuteOptions<Target, T>): PreparedCall<Target, T> {
  let chosen: Array<RankedEndpoint<Target>>;
  let pairs: Array<{ primary: PoolEndpoint<Target>; secondary?: PoolEndpoint<Target> }> = [];
  let degraded: boolean;
  if (options.strategy === 'dual') {
    checkCount('maxCandidates', options.maxCandidates, 1);
    const selection = pairsFrom(core, { maxPairs: options.maxCandidates });
    chosen = selection.chosen;
    pairs = [...selection.pairs];
    degraded = selection.degraded;
  } else {
    const quorum =
      options.strategy === 'consensus' && options.tally === undefined && typeof options.quorum === 'number' ? options.quorum : 1;
    const selection = selectFrom(rankEndpoints(core), {
      maxCandidates: options.maxCandidates,
      minCandidates: options.minCandidates ?? quorum,
    });
    chosen = selection.chosen;
    degraded = selection.degraded;
  }
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
    options.onSelection?.({ endpoints: candidates, degraded });
  } catch {
    // An observer must not change the call (the same rule as the strategies' onAttempt).
  }

  const userOnAttempt = options.onAttempt;
  return {
    candidates,
    pairs,
    wrap: (attempt: PoolAttemptFn<Target, T>): PoolAttemptFn<Target, T> => {
      return (endpoint, context) => {
        const state = stateOf(core, endpoint.id);
        const reserved = reservations.get(endpoint.id);
        if (reserved !== undefined) {
          reserved.probeReservations--;
          reservations.delete(endpoint.id);
        }
        trackers.set(context.attempt, beginAttempt(core, state));
        return attempt(endpoint, context);
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
