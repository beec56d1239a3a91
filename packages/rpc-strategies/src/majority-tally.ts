import { XError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';
import { configure } from 'safe-stable-stringify';
import { aggregateCategory, deadlineExceeded, failureList } from './errors.js';
import type { GroupSummary } from './errors.js';
import type { Ballot, ConsensusTally, ConsensusVerdict, TallyDecision, TallyInput, Vote } from './types.js';

// The default tally of `consensus`: answers grouped by `normalize(value)`, a count or weight quorum,
// the first group to reach it wins, and the call fails as soon as no group can reach it any more.

const canonicalJson = configure({ bigint: true, circularValue: TypeError, deterministic: true });

/**
 * The default `normalize`: canonical JSON with object keys sorted at every depth (so key order never
 * splits a vote), bigints as their digits, `undefined` as the string `undefined`; circular values
 * cannot vote (STRATEGY_NORMALIZE_FAILED).
 */
export function canonicalKey(value: unknown): string {
  return canonicalJson(value) ?? 'undefined';
}

// Weights are summed in floating point: 0.1 + 0.2 must reach a quorum of 0.3.
const EPSILON = 1e-9;

function reached(weight: number, quorum: number): boolean {
  return weight >= quorum - EPSILON * Math.max(1, quorum);
}

/**
 * The consensus rule every `@x` vote uses to stop early: can some group still reach `quorum`, when the
 * largest group so far has `largest` (votes or summed weights) and the answers still to come can add at
 * most `outstanding`? When it cannot, the outcome is settled: no consensus, without waiting for the rest.
 */
export function quorumStillReachable(largest: number, outstanding: number, quorum: number): boolean {
  return reached(largest + outstanding, quorum);
}

export interface MajorityTallySettings<C, T> {
  readonly quorum: number;
  readonly byWeight: boolean;
  /** Vote weight per candidate index (all 1 for a count quorum). */
  readonly weights: readonly number[];
  readonly normalize: (value: T) => string;
  /** Only for the types: the candidate type of the call. */
  readonly candidates?: readonly C[];
}

interface Group<C, T> {
  readonly key: string;
  weight: number;
  readonly votes: Vote<C, T>[];
}

function normalizeFailed(index: number, cause: unknown): XError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new XError({
    code: 'STRATEGY_NORMALIZE_FAILED',
    category: 'protocol',
    message: `consensus: the answer of candidate ${index} could not be normalised: ${detail}`,
    context: { index },
    cause,
  });
}

function shorten(key: string): string {
  return key.length > 200 ? `${key.slice(0, 200)}…` : key;
}

function indexesWith<T>(ballots: readonly Ballot<T>[], status: Ballot<T>['status']): number[] {
  const out: number[] = [];
  ballots.forEach((ballot, index) => {
    if (ballot.status === status) out.push(index);
  });
  return out;
}

function summary<C, T>(groups: readonly Group<C, T>[]): readonly GroupSummary[] {
  return Object.freeze(
    [...groups]
      .sort((a, b) => b.weight - a.weight)
      .map((g) => Object.freeze({ key: shorten(g.key), weight: g.weight, indexes: g.votes.map((v) => v.index) })),
  );
}

/**
 * Category rule: answers that disagree → `protocol`; otherwise the failures' common category
 * (`network` when mixed); no failures at all (too few candidates or too little weight) → `config`.
 */
function unreachableCategory<C, T>(groups: readonly Group<C, T>[], input: TallyInput<C, T>): ErrorCategory {
  if (groups.length > 1) return 'protocol';
  return input.failures.length > 0 ? aggregateCategory(input.failures.map((f) => f.error)) : 'config';
}

function unreachable<C, T>(quorum: number, groups: readonly Group<C, T>[], input: TallyInput<C, T>): XError {
  const described = summary(groups);
  const failures = failureList(input.failures);
  const pending = input.reason === 'start' ? [] : indexesWith(input.ballots, 'pending');
  return new XError({
    code: 'STRATEGY_QUORUM_UNREACHABLE',
    category: unreachableCategory(groups, input),
    message:
      `consensus: quorum ${quorum} can no longer be reached ` +
      `(groups: ${described.map((g) => g.weight).join('+') || 'none'}, ${failures.length} failed, ${pending.length} pending)`,
    context: { quorum, groups: described, failures, pending: Object.freeze(pending) },
    cause:
      failures.length === 0
        ? undefined
        : new AggregateError(
            failures.map((f) => f.error),
            'consensus: failed participants',
          ),
  });
}

/**
 * The tally `consensus` uses unless given one, one per call. It counts incrementally: answers only
 * ever arrive (a ballot once answered stays answered), so each `decide` files the answers that
 * arrived since the last one, in arrival order, and the first group to reach the quorum wins.
 */
class MajorityTally<C, T> implements ConsensusTally<C, T, ConsensusVerdict<C, T>> {
  /** Normalised key per attempt, set when `accept` takes the answer. */
  private readonly keys = new Map<number, string>();
  private readonly byKey = new Map<string, Group<C, T>>();
  private readonly votes: Vote<C, T>[] = [];
  private counted = 0;
  private best = 0;
  private winner: Group<C, T> | undefined;

  constructor(private readonly settings: MajorityTallySettings<C, T>) {}

  accept(value: T, _candidate: C, index: number, attempt: number): XError | undefined {
    let key: unknown;
    try {
      key = this.settings.normalize(value);
      if (typeof key !== 'string') throw new TypeError(`normalize returned ${typeof key}, not a string`);
    } catch (cause) {
      return normalizeFailed(index, cause);
    }
    this.keys.set(attempt, key);
    return undefined;
  }

  decide(input: TallyInput<C, T>): TallyDecision<ConsensusVerdict<C, T>> {
    this.countNewAnswers(input);
    const { quorum } = this.settings;
    const winner = this.winner;
    if (winner !== undefined) {
      const first = winner.votes[0] as Vote<C, T>;
      return {
        kind: 'decided',
        verdict: {
          value: first.value,
          key: winner.key,
          weight: winner.weight,
          quorum,
          agreed: winner.votes,
          dissented: this.votes.filter((v) => v.key !== winner.key),
          failed: input.failures,
          pending: indexesWith(input.ballots, 'pending'),
          latencyMs: input.elapsedMs,
        },
      };
    }
    const groups = [...this.byKey.values()];
    if (input.reason === 'deadline') {
      const error = deadlineExceeded('consensus', input.deadlineMs, input.failures, indexesWith(input.ballots, 'unanswered'), {
        quorum,
        groups: summary(groups),
      });
      return { kind: 'failed', error };
    }
    if (quorumStillReachable(this.best, this.stillPossible(input), quorum)) return WAIT;
    return { kind: 'failed', error: unreachable(quorum, groups, input) };
  }

  private countNewAnswers(input: TallyInput<C, T>): void {
    const { ballots } = input;
    // Usually one new answer per decide: find each next arrival in turn, allocating nothing to look.
    for (;;) {
      const index = ballots.findIndex((ballot) => ballot.status === 'answered' && ballot.arrival === this.counted);
      if (index < 0) return;
      const ballot = ballots[index] as Extract<Ballot<T>, { status: 'answered' }>;
      this.counted += 1;
      const key = this.keys.get(ballot.attempt) as string;
      const weight = this.settings.weights[index] ?? 0;
      const vote: Vote<C, T> = {
        candidate: input.candidates[index] as C,
        index,
        attempt: ballot.attempt,
        value: ballot.value,
        key,
        weight,
        latencyMs: ballot.latencyMs,
      };
      this.votes.push(vote);
      let group = this.byKey.get(key);
      if (group === undefined) {
        group = { key, weight: 0, votes: [] };
        this.byKey.set(key, group);
      }
      group.weight += weight;
      group.votes.push(vote);
      if (group.weight > this.best) this.best = group.weight;
      // The first group to reach the quorum wins, whatever arrived after it.
      if (this.winner === undefined && reached(group.weight, this.settings.quorum)) this.winner = group;
    }
  }

  /** The most weight the answers still to come could add: each running slot yields at most one vote. */
  private stillPossible(input: TallyInput<C, T>): number {
    const slots = input.outstanding;
    if (slots === 0) return 0;
    if (!this.settings.byWeight) return slots;
    const { weights } = this.settings;
    const open: number[] = [];
    input.ballots.forEach((ballot, index) => {
      if (ballot.status === 'pending' || ballot.status === 'spare') open.push(weights[index] ?? 0);
    });
    open.sort((a, b) => b - a);
    let sum = 0;
    for (let i = 0; i < slots && i < open.length; i++) sum += open[i] ?? 0;
    return sum;
  }
}

const WAIT: TallyDecision<never> = Object.freeze({ kind: 'wait' });

/** The default tally of one call (see {@link MajorityTally}). */
export function createMajorityTally<C, T>(settings: MajorityTallySettings<C, T>): ConsensusTally<C, T, ConsensusVerdict<C, T>> {
  return new MajorityTally(settings);
}
