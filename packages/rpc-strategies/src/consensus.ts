import { XError } from '@x/errors';
import type { ErrorCategory } from '@x/errors';
import { configure } from 'safe-stable-stringify';
import { aggregateCategory, deadlineExceeded, failureList, hookFailed, invalidOptions } from './errors.js';
import {
  checkCandidates,
  checkOptions,
  pendingIndexes,
  rejectCall,
  resolveCall,
  runCall,
  settleNow,
  shouldFailover,
  startAttempt,
} from './engine.js';
import type { Call, CallHooks } from './engine.js';
import type { AttemptFn, ConsensusOptions, ConsensusVerdict, Quorum, Vote } from './types.js';

const canonicalJson = configure({ bigint: true, circularValue: TypeError, deterministic: true });

/**
 * The default `normalize`: canonical JSON with object keys sorted at every depth (so key order never
 * splits a vote), bigints as their digits, `undefined` as the string `undefined`; circular values
 * cannot vote (NORMALIZE_FAILED).
 */
export function canonicalKey(value: unknown): string {
  return canonicalJson(value) ?? 'undefined';
}

// Weights are summed in floating point: 0.1 + 0.2 must reach a quorum of 0.3.
const EPSILON = 1e-9;

interface Group<C, T> {
  readonly key: string;
  weight: number;
  readonly votes: Vote<C, T>[];
}

interface ConsensusState<C, T> {
  readonly quorum: number;
  readonly byWeight: boolean;
  /** Vote weight per candidate index (all 1 for a count quorum). */
  readonly weights: readonly number[];
  readonly normalize: (value: T) => string;
  readonly participants: number;
  /** Normalised key per attempt, set when the value is accepted. */
  readonly keys: string[];
  /** Attempts whose answer could not be normalised: failures, but the endpoint did answer. */
  readonly unnormalised: Set<number>;
  readonly groups: Map<string, Group<C, T>>;
  readonly votes: Vote<C, T>[];
  next: number;
  best: number;
}

type ConsensusCall<C, T> = Call<C, T, ConsensusVerdict<C, T>, ConsensusState<C, T>>;

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

/** The most weight the votes still to come could add: each running slot yields at most one vote. */
function stillPossible<C, T>(call: ConsensusCall<C, T>): number {
  const state = call.state;
  const slots = call.running;
  if (slots === 0) return 0;
  if (!state.byWeight) return slots;
  const open: number[] = [];
  for (const record of call.records) if (!record.done) open.push(state.weights[record.index] ?? 0);
  for (let index = state.next; index < call.candidates.length; index++) open.push(state.weights[index] ?? 0);
  open.sort((a, b) => b - a);
  let sum = 0;
  for (let i = 0; i < slots && i < open.length; i++) sum += open[i] ?? 0;
  return sum;
}

function checkReachable<C, T>(call: ConsensusCall<C, T>): void {
  const state = call.state;
  if (quorumStillReachable(state.best, stillPossible(call), state.quorum)) return;
  rejectCall(call, quorumUnreachable(call));
}

function groupSummary<C, T>(state: ConsensusState<C, T>): readonly { key: string; weight: number; indexes: number[] }[] {
  return Object.freeze(
    [...state.groups.values()]
      .sort((a, b) => b.weight - a.weight)
      .map((g) => Object.freeze({ key: shorten(g.key), weight: g.weight, indexes: g.votes.map((v) => v.index) })),
  );
}

function shorten(key: string): string {
  return key.length > 200 ? `${key.slice(0, 200)}…` : key;
}

/**
 * Category rule: answers that disagree → `protocol`; otherwise the failures' common category
 * (`network` when mixed); no failures at all (too few candidates or too little weight) → `config`.
 */
function unreachableCategory<C, T>(call: ConsensusCall<C, T>): ErrorCategory {
  if (call.state.groups.size > 1) return 'protocol';
  const failures = call.failures ?? [];
  return failures.length > 0 ? aggregateCategory(failures.map((f) => f.error)) : 'config';
}

function quorumUnreachable<C, T>(call: ConsensusCall<C, T>): XError {
  const state = call.state;
  const groups = groupSummary(state);
  const failures = failureList(call.failures ?? []);
  return new XError({
    code: 'QUORUM_UNREACHABLE',
    category: unreachableCategory(call),
    message:
      `consensus: quorum ${state.quorum} can no longer be reached ` +
      `(groups: ${groups.map((g) => g.weight).join('+') || 'none'}, ${failures.length} failed, ${call.running} pending)`,
    context: { quorum: state.quorum, groups, failures, pending: Object.freeze(pendingIndexes(call)) },
    cause: failures.length === 0 ? undefined : new AggregateError(failures.map((f) => f.error), 'consensus: failed participants'),
  });
}

function normalizeFailed(index: number, cause: unknown): XError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new XError({
    code: 'NORMALIZE_FAILED',
    category: 'protocol',
    message: `consensus: the answer of candidate ${index} could not be normalised: ${detail}`,
    context: { index },
    cause,
  });
}

const CONSENSUS_HOOKS: CallHooks<unknown, unknown, ConsensusVerdict<unknown, unknown>, ConsensusState<unknown, unknown>> = {
  accept(call, record, value) {
    let key: unknown;
    try {
      key = call.state.normalize(value);
      if (typeof key !== 'string') throw new TypeError(`normalize returned ${typeof key}, not a string`);
    } catch (cause) {
      call.state.unnormalised.add(record.attempt);
      return normalizeFailed(record.index, cause);
    }
    call.state.keys[record.attempt] = key;
    return undefined;
  },
  success(call, record, value, latencyMs) {
    const state = call.state;
    const key = state.keys[record.attempt] as string;
    const weight = state.weights[record.index] ?? 0;
    const vote: Vote<unknown, unknown> = {
      candidate: record.candidate,
      index: record.index,
      attempt: record.attempt,
      value,
      key,
      weight,
      latencyMs,
    };
    state.votes.push(vote);
    let group = state.groups.get(key);
    if (group === undefined) {
      group = { key, weight: 0, votes: [] };
      state.groups.set(key, group);
    }
    group.weight += weight;
    group.votes.push(vote);
    if (group.weight > state.best) state.best = group.weight;
    if (reached(group.weight, state.quorum)) {
      resolveCall(call, verdictOf(call, group));
      return;
    }
    checkReachable(call);
  },
  failure(call, record, error) {
    // An answer that cannot be compared is a bad vote, like a liar's: it never ends the call.
    if (!call.state.unnormalised.has(record.attempt) && !shouldFailover(call, error)) {
      rejectCall(call, error);
      return;
    }
    // A failed participant frees its slot for the next candidate: errors never vote, spares may.
    const state = call.state;
    if (state.next < call.candidates.length) startAttempt(call, state.next++);
    checkReachable(call);
  },
  deadline(call) {
    const state = call.state;
    const error = deadlineExceeded('consensus', call.deadlineMs, call.failures ?? [], pendingIndexes(call), {
      quorum: state.quorum,
      groups: groupSummary(state),
    });
    settleNow(call, error, { ok: false, error });
  },
};

function verdictOf<C, T>(call: ConsensusCall<C, T>, group: Group<C, T>): ConsensusVerdict<C, T> {
  const state = call.state;
  const first = group.votes[0] as Vote<C, T>;
  return {
    value: first.value,
    key: group.key,
    weight: group.weight,
    quorum: state.quorum,
    agreed: group.votes,
    dissented: state.votes.filter((v) => v.key !== group.key),
    failed: call.failures ?? [],
    pending: pendingIndexes(call),
    latencyMs: performance.now() - call.startedAt,
  };
}

function startConsensus<C, T>(call: ConsensusCall<C, T>): void {
  const state = call.state;
  // Decide before any request goes out when even every participant agreeing could not make quorum.
  const open = state.byWeight
    ? [...state.weights].sort((a, b) => b - a).slice(0, state.participants).reduce((sum, w) => sum + w, 0)
    : state.participants;
  if (!reached(open, state.quorum)) {
    rejectCall(call, quorumUnreachable(call));
    return;
  }
  while (state.next < state.participants && !call.settled) startAttempt(call, state.next++);
}

/**
 * Asks up to `maxParticipants` candidates at once, groups the answers by `normalize(value)`, and
 * returns a verdict as soon as one group reaches `quorum` (the rest are aborted), or rejects with
 * `QUORUM_UNREACHABLE` as soon as no group can reach it any more. Errors never vote; a failed
 * participant is replaced by the next unused candidate.
 */
export function consensus<C, T>(
  candidates: readonly C[],
  attempt: AttemptFn<C, T>,
  options?: ConsensusOptions<C, T>,
): Promise<ConsensusVerdict<C, T>> {
  const bad = checkCandidates('consensus', candidates, attempt);
  if (bad !== undefined) return Promise.reject(bad);
  const checked = checkOptions(options);
  if (checked instanceof Error) return Promise.reject(checked);
  const o = options ?? ({});
  const { normalize = canonicalKey, weight, maxParticipants = candidates.length } = o;
  if (typeof normalize !== 'function') return Promise.reject(invalidOptions('consensus: normalize must be a function'));
  if (weight !== undefined && typeof weight !== 'function') return Promise.reject(invalidOptions('consensus: weight must be a function'));
  if (typeof maxParticipants !== 'number' || !(maxParticipants >= 1) || (Number.isFinite(maxParticipants) && !Number.isInteger(maxParticipants))) {
    return Promise.reject(invalidOptions('consensus: maxParticipants must be an integer ≥ 1', { maxParticipants }));
  }
  const participants = Math.min(maxParticipants, candidates.length);
  const quorumOption: Quorum = o.quorum ?? Math.floor(participants / 2) + 1;
  const byWeight = typeof quorumOption === 'object' && quorumOption !== null;
  const quorum = byWeight ? quorumOption.weight : quorumOption;
  if (byWeight ? !(typeof quorum === 'number' && Number.isFinite(quorum) && quorum > 0) : !(Number.isInteger(quorum) && quorum >= 1)) {
    return Promise.reject(invalidOptions('consensus: quorum must be an integer count ≥ 1 or { weight: number > 0 }', { quorum: o.quorum }));
  }
  if (!byWeight && weight !== undefined) {
    return Promise.reject(invalidOptions('consensus: weight needs a { weight } quorum; a count quorum counts every vote as 1'));
  }
  const weights: number[] = new Array<number>(candidates.length).fill(1);
  if (weight !== undefined) {
    for (let index = 0; index < candidates.length; index++) {
      let w: unknown;
      try {
        w = weight(candidates[index] as C, index);
      } catch (cause) {
        return Promise.reject(hookFailed('weight', cause));
      }
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        return Promise.reject(invalidOptions(`consensus: weight of candidate ${index} must be a finite number ≥ 0`, { index, weight: w }));
      }
      weights[index] = w;
    }
  }
  const state: ConsensusState<C, T> = {
    quorum,
    byWeight,
    weights,
    normalize,
    participants,
    keys: [],
    unnormalised: new Set(),
    groups: new Map(),
    votes: [],
    next: 0,
    best: 0,
  };
  return runCall(
    'consensus',
    candidates,
    attempt,
    checked,
    CONSENSUS_HOOKS as unknown as CallHooks<C, T, ConsensusVerdict<C, T>, ConsensusState<C, T>>,
    state,
    startConsensus,
  );
}
