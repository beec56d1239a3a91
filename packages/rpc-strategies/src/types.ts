import type { Failure, Outcome, Success, XError } from '@x/errors';

/** Reported through `onAttempt`, exactly once per started attempt. */
export interface AttemptEvent<C, T> {
  readonly candidate: C;
  /** Index in the candidates array (for `dual`: in the flattened list of pairs, see its docs). */
  readonly index: number;
  readonly attempt: number;
  readonly outcome: Outcome<T>;
  /**
   * True when the strategy aborted the attempt because the call was already decided (a winner, a
   * verdict, an early stop, the deadline or the caller's abort): not a failure of the endpoint.
   * `outcome.error` then says why (category `aborted`, or `timeout` for the overall deadline).
   */
  readonly abortedAsLoser: boolean;
}

/** Options every strategy accepts. */
export interface StrategyOptions<C, T> {
  /** External cancellation. An already-aborted signal rejects at once without starting anything. */
  readonly signal?: AbortSignal;
  /** Per attempt; on expiry the attempt's signal aborts and it fails with `STRATEGY_ATTEMPT_TIMEOUT` (category `timeout`). */
  readonly attemptTimeoutMs?: number;
  /** One overall deadline for the call (`STRATEGY_DEADLINE_EXCEEDED`, category `timeout`). */
  readonly deadlineMs?: number;
  /** Called exactly once per started attempt. Exceptions it throws are caught and ignored. */
  readonly onAttempt?: (event: AttemptEvent<C, T>) => void;
  /** Which failures let other candidates win. Default: category network, timeout, rate-limit or server. */
  readonly shouldFailover?: (error: XError) => boolean;
}

/** One failed attempt, as listed in results, verdicts and error contexts. */
export interface AttemptFailure<C> {
  readonly candidate: C;
  readonly index: number;
  readonly attempt: number;
  readonly error: XError;
  readonly latencyMs: number;
}

/** The winner of `race` (and the base of `hedge` and `dual` results). */
export interface RaceResult<C, T> {
  readonly value: T;
  readonly candidate: C;
  readonly index: number;
  /** Which attempt of the call won (0 = the first one started). */
  readonly attempt: number;
  /** The winning attempt's own latency. */
  readonly latencyMs: number;
  /** From the start of the call to the win (differs from `latencyMs` when the winner started later). */
  readonly elapsedMs: number;
  /** How many attempts the call started. */
  readonly started: number;
  /** Attempts that failed before the win, in the order they failed. */
  readonly failures: readonly AttemptFailure<C>[];
}

/** Shared across calls (a pool owns one) so that hedging cannot multiply load in a storm. */
export interface HedgeBudget {
  /** Counts one call; earns `ratio` of an extra attempt. `hedge` calls it once per call. */
  recordCall(): void;
  /** Takes one extra attempt from the budget; false (and nothing taken) when exhausted. */
  tryAcquire(): boolean;
  /** Current state, for metrics. */
  snapshot(): HedgeBudgetSnapshot;
}

export interface HedgeBudgetSnapshot {
  /** Extra attempts available right now (fractional). */
  readonly available: number;
  readonly calls: number;
  readonly acquired: number;
  readonly denied: number;
}

export type HedgeDelay<C> = number | ((candidate: C, index: number) => number);

export interface HedgeOptions<C, T> extends StrategyOptions<C, T> {
  /**
   * How long to wait after starting a candidate before starting the next one. A function is asked
   * about the candidate just started (e.g. its p95 latency). A non-finite result means "do not
   * hedge after this one"; a negative one counts as 0.
   */
  readonly hedgeDelayMs: HedgeDelay<C>;
  /** Most attempts one call may start, counting failovers. Default: `candidates.length`. */
  readonly maxAttempts?: number;
  /** Limits attempts started by the delay; failover after an actual failure is never limited. */
  readonly budget?: HedgeBudget;
}

export interface HedgeResult<C, T> extends RaceResult<C, T> {
  /** Attempts started because the delay expired (not because of a failure). */
  readonly hedges: number;
  /** True when the budget refused a hedge during this call. */
  readonly budgetDenied: boolean;
}

export type Quorum = number | { readonly weight: number };

/** One answer in a consensus call. */
export interface Vote<C, T> {
  readonly candidate: C;
  readonly index: number;
  readonly attempt: number;
  readonly value: T;
  /** The `normalize`d value: votes with the same key agree. */
  readonly key: string;
  readonly weight: number;
  readonly latencyMs: number;
}

export interface ConsensusOptions<C, T> extends StrategyOptions<C, T> {
  /** Agreeing votes needed (a count), or `{ weight }` summed over agreeing votes. Default: a strict majority of the participants by count. */
  readonly quorum?: Quorum;
  /** What "the same answer" means. Default: canonical JSON with sorted keys (`safe-stable-stringify`). */
  readonly normalize?: (value: T) => string;
  /** Weight of a candidate's vote for a `{ weight }` quorum. Default: 1. Must be finite and ≥ 0. */
  readonly weight?: (candidate: C, index: number) => number;
  /** Most candidates asked at once; a participant that fails is replaced by the next candidate. Default: all. */
  readonly maxParticipants?: number;
}

/** `consensus` with a tally of the caller's own instead of the default majority vote (`quorum`, `normalize`, `weight`). */
export interface TallyConsensusOptions<C, T, V> extends StrategyOptions<C, T> {
  readonly tally: ConsensusTally<C, T, V>;
  /** Most candidates asked at once; a participant that fails is replaced by the next candidate. Default: all. */
  readonly maxParticipants?: number;
  readonly quorum?: never;
  readonly normalize?: never;
  readonly weight?: never;
}

/**
 * One candidate of a consensus call, as a tally sees it:
 * - `spare`: not asked (yet); it is asked when a participant fails;
 * - `pending`: asked, no answer yet;
 * - `answered`: a value (`arrival` is its 0-based rank among the answers so far);
 * - `failed`: an error, or an answer the tally's `accept` refused;
 * - `unanswered`: cut by the deadline before it answered (only in the last, `final` tally).
 */
export type Ballot<T> =
  | { readonly status: 'spare' }
  | { readonly status: 'pending' }
  | { readonly status: 'unanswered' }
  | { readonly status: 'failed'; readonly error: XError; readonly latencyMs: number; readonly attempt: number }
  | { readonly status: 'answered'; readonly value: T; readonly latencyMs: number; readonly attempt: number; readonly arrival: number };

/** What a tally is given each time it is asked. */
export interface TallyInput<C, T> {
  readonly candidates: readonly C[];
  /** One per candidate, in input order. */
  readonly ballots: readonly Ballot<T>[];
  /**
   * True when nothing more will arrive: every participant settled and no spare is left, or the
   * deadline fired (`reason: 'deadline'`). A final tally must decide or fail, never wait (a `wait`
   * then fails the call with `STRATEGY_HOOK_FAILED`).
   */
  readonly final: boolean;
  /** `start`: asked once before any attempt starts (every participant `pending`); `progress`: after a settled attempt; `deadline`: the deadline fired. */
  readonly reason: 'start' | 'progress' | 'deadline';
  /** Most answers still to come: participants running now (a failure's spare replaces it, it does not add one). */
  readonly outstanding: number;
  /** Failed attempts so far, in the order they failed. */
  readonly failures: readonly AttemptFailure<C>[];
  /** From the start of the call. */
  readonly elapsedMs: number;
  /** The call's deadline (0: none). */
  readonly deadlineMs: number;
}

/** A tally's answer: keep waiting, the call's result, or the error to reject with. */
export type TallyDecision<V> =
  { readonly kind: 'wait' } | { readonly kind: 'decided'; readonly verdict: V } | { readonly kind: 'failed'; readonly error: XError };

/**
 * How `consensus` counts votes. The engine runs the participants, replaces failed ones with spares,
 * applies timeouts, the deadline and the caller's signal, and asks the tally after every settled
 * attempt (and once before starting, with every participant `pending`). The first answer other than
 * `wait` ends the call: running attempts are aborted as losers (the early cut).
 */
export interface ConsensusTally<C, T, V> {
  /**
   * Vets one answer as it arrives. An error returned here makes it a failed ballot (reported to
   * `onAttempt` as a failure) that never ends the call: a spare takes its place, as after a failover.
   */
  readonly accept?: (value: T, candidate: C, index: number, attempt: number) => XError | undefined;
  /** Counts the ballots. Pure with respect to the call: it may be asked again with more ballots. */
  readonly decide: (input: TallyInput<C, T>) => TallyDecision<V>;
}

export interface ConsensusVerdict<C, T> {
  /** The value of the first vote of the winning group. */
  readonly value: T;
  readonly key: string;
  /** The winning group's weight (count or summed weights, like `quorum`). */
  readonly weight: number;
  readonly quorum: number;
  /** Votes of the winning group, in arrival order. */
  readonly agreed: readonly Vote<C, T>[];
  /** Votes for other keys, in arrival order, with their values. */
  readonly dissented: readonly Vote<C, T>[];
  readonly failed: readonly AttemptFailure<C>[];
  /** Indexes of participants that had not answered at the decision (they are aborted). */
  readonly pending: readonly number[];
  /** From the start of the call to the decision. */
  readonly latencyMs: number;
}

export interface DualPair<C> {
  readonly primary: C;
  readonly secondary?: C;
}

/** Round-robin state for `dual(..., { across: 'balance' })`, kept by the caller across calls. */
export interface DualBalancer {
  /** The pair to start with for the next call, in `0 … pairCount - 1`. */
  next(pairCount: number): number;
}

export interface DualOptions<C, T> extends StrategyOptions<C, T> {
  /** `'race'`: every pair at once. `'balance'`: one pair per call, the next pair when both of it fail. Default `'race'`. */
  readonly across?: 'race' | 'balance';
  /** Where `'balance'` starts; without one it always starts at pair 0 (pure failover order). */
  readonly balancer?: DualBalancer;
}

export interface DualResult<C, T> extends RaceResult<C, T> {
  readonly pair: number;
  readonly role: 'primary' | 'secondary';
}

/**
 * Per-candidate result of `scatter`: the attempt's {@link Outcome} plus `aborted`, true for attempts
 * the strategy cut short (`stopWhen`, the deadline) — not endpoint failures.
 */
export type ScatterOutcome<T> = (Success<T> & { readonly aborted: false }) | (Failure & { readonly aborted: boolean });

export interface ScatterProgress {
  readonly settled: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly pending: number;
}

export interface ScatterOptions<C, T> extends StrategyOptions<C, T> {
  /**
   * Asked after every settled attempt with the outcomes so far (input order, `undefined` while
   * pending); `true` stops the call and aborts the rest.
   */
  readonly stopWhen?: (outcomes: ReadonlyArray<ScatterOutcome<T> | undefined>, progress: ScatterProgress) => boolean;
}
