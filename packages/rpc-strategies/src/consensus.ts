import type { AttemptFn, XError } from '@x/errors';
import { deadlineExceeded, hookFailed, invalidOptions } from './errors.js';
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
import { canonicalKey, createMajorityTally } from './majority-tally.js';
import type {
  Ballot,
  ConsensusOptions,
  ConsensusTally,
  ConsensusVerdict,
  Quorum,
  TallyConsensusOptions,
  TallyDecision,
  TallyInput,
} from './types.js';

export { canonicalKey, quorumStillReachable } from './majority-tally.js';

interface ConsensusState<C, T, V> {
  readonly tally: ConsensusTally<C, T, V>;
  readonly participants: number;
  /** One per candidate: what the tally sees. */
  readonly ballots: Ballot<T>[];
  /** Attempts whose answer the tally's `accept` refused: failures, but the endpoint did answer. */
  readonly refused: Set<number>;
  answers: number;
  next: number;
}

type ConsensusCall<C, T, V> = Call<C, T, V, ConsensusState<C, T, V>>;

// The ballots without data are shared: a call allocates only for answers and failures.
const SPARE: Ballot<never> = Object.freeze({ status: 'spare' });
const PENDING: Ballot<never> = Object.freeze({ status: 'pending' });
const UNANSWERED: Ballot<never> = Object.freeze({ status: 'unanswered' });

function inputOf<C, T, V>(
  call: ConsensusCall<C, T, V>,
  reason: TallyInput<C, T>['reason'],
  final: boolean,
  outstanding: number,
): TallyInput<C, T> {
  // A fresh object per question: a tally may keep the inputs it was given.
  return {
    candidates: call.candidates,
    ballots: call.state.ballots,
    final,
    reason,
    outstanding,
    failures: call.failures ?? [],
    elapsedMs: performance.now() - call.startedAt,
    deadlineMs: call.deadlineMs,
  };
}

function ask<C, T, V>(call: ConsensusCall<C, T, V>, input: TallyInput<C, T>): TallyDecision<V> {
  let decision: TallyDecision<V>;
  try {
    decision = call.state.tally.decide(input);
  } catch (cause) {
    throw hookFailed('tally.decide', cause);
  }
  const kind = (decision as { kind?: unknown } | undefined)?.kind;
  if (kind !== 'wait' && kind !== 'decided' && kind !== 'failed') {
    throw hookFailed('tally.decide', new TypeError("tally.decide must return { kind: 'wait' | 'decided' | 'failed' }"));
  }
  if (kind === 'wait' && input.final) throw hookFailed('tally.decide', new TypeError('tally.decide waited with nothing left to wait for'));
  return decision;
}

/** Asks the tally after a settled attempt and ends the call on anything but `wait`. */
function count<C, T, V>(call: ConsensusCall<C, T, V>): void {
  const decision = ask(call, inputOf(call, 'progress', call.running === 0, call.running));
  if (decision.kind === 'decided') resolveCall(call, decision.verdict);
  else if (decision.kind === 'failed') rejectCall(call, decision.error);
}

const CONSENSUS_HOOKS: CallHooks<unknown, unknown, unknown, ConsensusState<unknown, unknown, unknown>> = {
  accept(call, record, value) {
    const tally = call.state.tally;
    if (tally.accept === undefined) return undefined;
    let refusal: XError | undefined;
    try {
      refusal = tally.accept(value, record.candidate, record.index, record.attempt);
    } catch (cause) {
      throw hookFailed('tally.accept', cause);
    }
    if (refusal !== undefined) call.state.refused.add(record.attempt);
    return refusal;
  },
  success(call, record, value, latencyMs) {
    const state = call.state;
    state.ballots[record.index] = { status: 'answered', value, latencyMs, attempt: record.attempt, arrival: state.answers++ };
    count(call);
  },
  failure(call, record, error, latencyMs) {
    const state = call.state;
    // An answer the tally refused is a bad vote, like a liar's: it never ends the call.
    if (!state.refused.has(record.attempt) && !shouldFailover(call, error)) {
      rejectCall(call, error);
      return;
    }
    state.ballots[record.index] = { status: 'failed', error, latencyMs, attempt: record.attempt };
    // A failed participant frees its slot for the next candidate: errors never vote, spares may.
    if (state.next < call.candidates.length) startParticipant(call);
    if (!call.settled) count(call);
  },
  deadline(call) {
    const state = call.state;
    const pending = pendingIndexes(call);
    for (const index of pending) state.ballots[index] = UNANSWERED;
    const decision = ask(call, inputOf(call, 'deadline', true, 0));
    if (decision.kind === 'failed') {
      settleNow(call, decision.error, { ok: false, error: decision.error });
      return;
    }
    const reason = deadlineExceeded('consensus', call.deadlineMs, call.failures ?? [], pending);
    settleNow(call, reason, { ok: true, value: (decision as Extract<TallyDecision<unknown>, { kind: 'decided' }>).verdict });
  },
};

function startParticipant<C, T, V>(call: ConsensusCall<C, T, V>): void {
  const state = call.state;
  const index = state.next++;
  state.ballots[index] = PENDING;
  startAttempt(call, index);
}

function startConsensus<C, T, V>(call: ConsensusCall<C, T, V>): void {
  const state = call.state;
  for (let index = 0; index < state.participants; index++) state.ballots[index] = PENDING;
  // Decide before any request goes out when even every participant agreeing could not make quorum.
  const decision = ask(call, inputOf(call, 'start', false, state.participants));
  if (decision.kind === 'decided') {
    resolveCall(call, decision.verdict);
    return;
  }
  if (decision.kind === 'failed') {
    rejectCall(call, decision.error);
    return;
  }
  while (state.next < state.participants && !call.settled) startParticipant(call);
}

function checkTally(tally: unknown): XError | undefined {
  if (typeof tally !== 'object' || tally === null || typeof (tally as ConsensusTally<unknown, unknown, unknown>).decide !== 'function') {
    return invalidOptions('tally', 'consensus: tally must be an object with a decide(input) method', tally);
  }
  const accept = (tally as ConsensusTally<unknown, unknown, unknown>).accept;
  if (accept !== undefined && typeof accept !== 'function')
    return invalidOptions('tally.accept', 'consensus: tally.accept must be a function', accept);
  return undefined;
}

/** The default tally of one call, from `quorum`, `normalize` and `weight`; an error for bad options. */
function majorityTallyOf<C, T>(
  candidates: readonly C[],
  participants: number,
  o: ConsensusOptions<C, T>,
): ConsensusTally<C, T, ConsensusVerdict<C, T>> | XError {
  const { normalize = canonicalKey, weight } = o;
  if (typeof normalize !== 'function') return invalidOptions('normalize', 'consensus: normalize must be a function', normalize);
  if (weight !== undefined && typeof weight !== 'function') return invalidOptions('weight', 'consensus: weight must be a function', weight);
  const quorumOption: Quorum = o.quorum ?? Math.floor(participants / 2) + 1;
  const byWeight = typeof quorumOption === 'object' && quorumOption !== null;
  const quorum = byWeight ? quorumOption.weight : quorumOption;
  if (byWeight ? !(typeof quorum === 'number' && Number.isFinite(quorum) && quorum > 0) : !(Number.isInteger(quorum) && quorum >= 1)) {
    return invalidOptions('quorum', 'consensus: quorum must be an integer count ≥ 1 or { weight: number > 0 }', o.quorum);
  }
  if (!byWeight && weight !== undefined) {
    return invalidOptions('weight', 'consensus: weight needs a { weight } quorum; a count quorum counts every vote as 1');
  }
  const weights: number[] = new Array<number>(candidates.length).fill(1);
  if (weight !== undefined) {
    for (let index = 0; index < candidates.length; index++) {
      let w: unknown;
      try {
        w = weight(candidates[index] as C, index);
      } catch (cause) {
        return hookFailed('weight', cause);
      }
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        return invalidOptions(`weight(candidates[${index}])`, `consensus: weight of candidate ${index} must be a finite number ≥ 0`, w);
      }
      weights[index] = w;
    }
  }
  return createMajorityTally<C, T>({ quorum, byWeight, weights, normalize });
}

/**
 * Asks up to `maxParticipants` candidates at once and counts their answers with a tally, returning
 * its verdict as soon as it decides (the rest are aborted) or rejecting as soon as it fails. Errors
 * never vote; a failed participant is replaced by the next unused candidate.
 *
 * The default tally groups the answers by `normalize(value)` and decides as soon as one group
 * reaches `quorum`, or rejects with `STRATEGY_QUORUM_UNREACHABLE` as soon as no group can reach it
 * any more. `tally` replaces it with a vote of the caller's own (see {@link ConsensusTally}).
 */
export function consensus<C, T>(
  candidates: readonly C[],
  attempt: AttemptFn<C, T>,
  options?: ConsensusOptions<C, T>,
): Promise<ConsensusVerdict<C, T>>;
export function consensus<C, T, V>(candidates: readonly C[], attempt: AttemptFn<C, T>, options: TallyConsensusOptions<C, T, V>): Promise<V>;
export function consensus<C, T, V>(
  candidates: readonly C[],
  attempt: AttemptFn<C, T>,
  options?: ConsensusOptions<C, T> | TallyConsensusOptions<C, T, V>,
): Promise<unknown> {
  const bad = checkCandidates('consensus', candidates, attempt);
  if (bad !== undefined) return Promise.reject(bad);
  const checked = checkOptions(options);
  if (checked instanceof Error) return Promise.reject(checked);
  const o: ConsensusOptions<C, T> | TallyConsensusOptions<C, T, V> = options ?? {};
  const { maxParticipants = candidates.length } = o;
  if (
    typeof maxParticipants !== 'number' ||
    !(maxParticipants >= 1) ||
    (Number.isFinite(maxParticipants) && !Number.isInteger(maxParticipants))
  ) {
    return Promise.reject(invalidOptions('maxParticipants', 'consensus: maxParticipants must be an integer ≥ 1', maxParticipants));
  }
  const participants = Math.min(maxParticipants, candidates.length);
  let tally: ConsensusTally<C, T, unknown> | XError;
  const custom = (o as Partial<TallyConsensusOptions<C, T, V>>).tally;
  if (custom !== undefined) {
    if (o.quorum !== undefined || o.normalize !== undefined || o.weight !== undefined) {
      return Promise.reject(invalidOptions('tally', 'consensus: a tally replaces quorum, normalize and weight; give one or the other'));
    }
    tally = checkTally(custom) ?? custom;
  } else {
    tally = majorityTallyOf(candidates, participants, o);
  }
  if (tally instanceof Error) return Promise.reject(tally);
  const state: ConsensusState<C, T, unknown> = {
    tally,
    participants,
    ballots: new Array<Ballot<T>>(candidates.length).fill(SPARE),
    refused: new Set(),
    answers: 0,
    next: 0,
  };
  return runCall(
    'consensus',
    candidates,
    attempt,
    checked,
    CONSENSUS_HOOKS as unknown as CallHooks<C, T, unknown, ConsensusState<C, T, unknown>>,
    state,
    startConsensus,
  );
}
