import { describe, expect, it } from 'vitest';
import { signatureListsCompatible, tallySolanaVotes } from '@x/solana-rpc';
import type { Ballot, TallyOptions } from '@x/solana-rpc';

const values: Omit<TallyOptions, 'final'> = { comparison: 'value', abstainOnNull: false, quorum: undefined, listLimit: 1000 };
const transactions: Omit<TallyOptions, 'final'> = { ...values, abstainOnNull: true };
const lists: Omit<TallyOptions, 'final'> = { ...values, comparison: 'signature-list' };

let clock = 0;
/** An answer; later calls arrive later unless a latency is given. */
const answer = (value: unknown, slot?: number, latencyMs = ++clock): Ballot => ({ status: 'answered', value, slot, latencyMs });
const balance = (lamports: number, slot: number, latencyMs?: number): Ballot =>
  answer({ context: { slot }, value: lamports }, slot, latencyMs);
const pending: Ballot = { status: 'pending' };
const failed: Ballot = { status: 'failed' };
const unanswered: Ballot = { status: 'unanswered' };

describe('value votes', () => {
  it('compares value only and returns the freshest agreeing answer', () => {
    const verdict = tallySolanaVotes([balance(5, 100), balance(5, 103), balance(5, 101)], { ...values, final: true });
    expect(verdict).toMatchObject({ kind: 'decided', source: 1, slot: 103, required: 2, agreed: [0, 1, 2], dissented: [] });
    expect(verdict.kind === 'decided' && verdict.result).toEqual({ context: { slot: 103 }, value: 5 });
  });

  it('outvotes a lying or lagging minority and names it', () => {
    const verdict = tallySolanaVotes([balance(9, 104), balance(5, 104), balance(5, 104)], { ...values, final: true });
    expect(verdict).toMatchObject({ kind: 'decided', agreed: [1, 2], dissented: [0] });
  });

  it('fails as soon as no group can still reach the quorum, without waiting for the rest', () => {
    // 1 honest, 3 liars with different values, 1 still pending, quorum 3: even the last answer could make a group of 2 at most.
    const ballots = [balance(5, 100), balance(6, 100), balance(7, 100), balance(8, 100), pending];
    expect(tallySolanaVotes(ballots, { ...values, quorum: 3, final: false })).toMatchObject({
      kind: 'failed',
      reason: 'disagreement',
      required: 3,
    });
    // One answer fewer, the pending two could still join a group: wait.
    expect(
      tallySolanaVotes([balance(5, 100), balance(6, 100), balance(7, 100), pending, pending], { ...values, quorum: 3, final: false }),
    ).toEqual({ kind: 'wait' });
    // Default quorum (strict majority of 5 = 3): the same.
    expect(tallySolanaVotes(ballots, { ...values, final: false })).toMatchObject({ kind: 'failed', reason: 'disagreement' });
  });

  it('decides as soon as a strict majority agrees, and not before', () => {
    expect(tallySolanaVotes([balance(5, 100), pending, pending], { ...values, final: false })).toEqual({ kind: 'wait' });
    expect(tallySolanaVotes([balance(5, 100), balance(5, 100), pending], { ...values, final: false }).kind).toBe('decided');
  });

  it('with an explicit low quorum waits while another group could still reach it, then prefers the freshest group', () => {
    const early = [balance(5, 100), balance(5, 100), balance(7, 106), pending];
    expect(tallySolanaVotes(early, { ...values, quorum: 2, final: false })).toEqual({ kind: 'wait' });
    const done = [balance(5, 100), balance(5, 100), balance(7, 106), balance(7, 105)];
    const verdict = tallySolanaVotes(done, { ...values, quorum: 2, final: false });
    expect(verdict).toMatchObject({ kind: 'decided', slot: 106, agreed: [2, 3], dissented: [0, 1] });
  });

  it('between equally fresh qualifying groups the larger wins', () => {
    const ballots = [balance(5, 100), balance(7, 100), balance(7, 100), balance(7, 98), balance(5, 99)];
    expect(tallySolanaVotes(ballots, { ...values, quorum: 2, final: true })).toMatchObject({
      kind: 'decided',
      agreed: [1, 2, 3],
      dissented: [0, 4],
    });
  });

  it('fails with the groups when answers disagree and none reaches the quorum', () => {
    const verdict = tallySolanaVotes([balance(1, 100), balance(2, 100), failed], { ...values, final: true });
    expect(verdict).toMatchObject({ kind: 'failed', reason: 'disagreement', required: 2 });
    expect(verdict.kind === 'failed' && verdict.groups.map((g) => g.indexes)).toEqual([[0], [1]]);
  });

  it('fails as too few when failures and silence leave one vote', () => {
    expect(tallySolanaVotes([balance(1, 100), failed, unanswered], { ...values, final: true })).toMatchObject({
      kind: 'failed',
      reason: 'too-few',
      required: 2,
    });
  });

  it('never waits once final', () => {
    expect(tallySolanaVotes([pending, pending, pending], { ...values, final: true }).kind).toBe('failed');
  });

  it('ignores key order inside values', () => {
    const a = answer({ context: { slot: 1 }, value: { lamports: 1, owner: 'x' } }, 1);
    const b = answer({ context: { slot: 2 }, value: { owner: 'x', lamports: 1 } }, 2);
    expect(tallySolanaVotes([a, b], { ...values, final: true })).toMatchObject({ kind: 'decided', agreed: [0, 1], source: 1 });
  });
});

describe('null means "not yet" (getTransaction)', () => {
  const tx = { slot: 90, meta: { fee: 5000 } };

  it('a null neither votes for nor against: one copy among nulls is the result', () => {
    const verdict = tallySolanaVotes([answer(null), answer(tx), answer(null)], { ...transactions, final: false });
    expect(verdict).toMatchObject({ kind: 'decided', result: tx, source: 1, agreed: [1], abstained: [0, 2], required: 1 });
  });

  it('waits for the nulls it needs before taking a single copy', () => {
    expect(tallySolanaVotes([answer(tx), pending, pending], { ...transactions, final: false })).toEqual({ kind: 'wait' });
    expect(tallySolanaVotes([answer(tx), answer(null), pending], { ...transactions, final: false })).toEqual({ kind: 'wait' });
  });

  it('nulls never outvote copies of the transaction', () => {
    const verdict = tallySolanaVotes([answer(null), answer(null), answer(tx), answer(tx), answer(null)], { ...transactions, final: true });
    expect(verdict).toMatchObject({ kind: 'decided', result: tx, agreed: [2, 3], abstained: [0, 1, 4] });
  });

  it('if nobody has it, the result is null', () => {
    const verdict = tallySolanaVotes([answer(null), answer(null), answer(null)], { ...transactions, final: true });
    expect(verdict).toMatchObject({ kind: 'decided', result: null, source: undefined, agreed: [], abstained: [0, 1, 2] });
  });

  it('a copy that cannot be confirmed (a node failed) is "not yet", not an error', () => {
    const verdict = tallySolanaVotes([answer(tx), failed, answer(null)], { ...transactions, final: true });
    expect(verdict).toMatchObject({ kind: 'decided', result: null, dissented: [0], abstained: [2] });
  });

  it('a null with every other node failing is too little to say anything', () => {
    expect(tallySolanaVotes([answer(null), failed, failed], { ...transactions, final: true })).toMatchObject({
      kind: 'failed',
      reason: 'too-few',
    });
  });

  it('two different copies with no majority are a disagreement, not a null', () => {
    const forged = { slot: 90, meta: { fee: 9999 } };
    const verdict = tallySolanaVotes([answer(tx), answer(forged), answer(null)], { ...transactions, final: true });
    expect(verdict).toMatchObject({ kind: 'failed', reason: 'disagreement' });
  });

  it('a liar among copies is outvoted', () => {
    const forged = { slot: 90, meta: { fee: 9999 } };
    expect(tallySolanaVotes([answer(forged), answer(tx), answer(tx)], { ...transactions, final: true })).toMatchObject({
      result: tx,
      dissented: [0],
    });
  });
});

/** getSignaturesForAddress entries, newest first: [signature, slot]. */
const list = (...entries: Array<[string, number]>) =>
  entries.map(([signature, slot]) => ({ signature, slot, err: null, memo: null, blockTime: 1, confirmationStatus: 'confirmed' }));
const sigs = (value: unknown): string[] => (value as Array<{ signature: string }>).map((entry) => entry.signature);

describe('signature lists: agreement on the common part', () => {
  const fresh = list(['s5', 105], ['s4', 100], ['s3', 95]);
  const lagging = list(['s4', 100], ['s3', 95], ['s2', 90]);
  const forged = list(['F', 106], ['s4', 100], ['s3', 95]);

  it('a lagging list (missing the newest) is compatible; a forged newest entry is not', () => {
    expect(signatureListsCompatible(fresh, lagging)).toBe(true);
    expect(signatureListsCompatible(forged, lagging)).toBe(true);
    expect(signatureListsCompatible(fresh, forged)).toBe(false);
  });

  it('the slots both lists cover must hold the same entries in the same order', () => {
    expect(signatureListsCompatible(list(['a', 10], ['b', 10]), list(['b', 10], ['a', 10]))).toBe(false);
    expect(signatureListsCompatible(list(['s5', 105]), list(['X', 105]))).toBe(false);
    expect(signatureListsCompatible(list(['s4', 100], ['s2', 90]), list(['s4', 100], ['s3', 95], ['s2', 90]))).toBe(false);
    expect(signatureListsCompatible([{ ...list(['s4', 100])[0]!, err: { InstructionError: [0, 'x'] } }], list(['s4', 100]))).toBe(false);
  });

  it('lists without common slots, and empty lists, do not contradict anything', () => {
    expect(signatureListsCompatible(list(['s9', 200]), list(['s1', 10]))).toBe(true);
    expect(signatureListsCompatible([], fresh)).toBe(true);
  });

  it('a list as long as the limit may be cut inside its oldest slot, which is then not compared', () => {
    const cut = list(['c', 12], ['b', 11], ['a2', 10]);
    const whole = list(['b', 11], ['a2', 10], ['a1', 10], ['z', 9]);
    expect(signatureListsCompatible(cut, whole, 3)).toBe(true);
    expect(signatureListsCompatible(list(['c', 12], ['b', 11], ['a1', 10]), whole, 3)).toBe(true);
    expect(signatureListsCompatible(list(['c', 12], ['b', 11], ['a1', 10]), whole, 1000)).toBe(false);
  });

  it('confirmed entries are those a quorum lists: a forged newest entry is dropped, the lagging node does not hide the newest', () => {
    const verdict = tallySolanaVotes([answer(fresh), answer(lagging), answer(forged)], { ...lists, final: true });
    expect(verdict.kind).toBe('decided');
    expect(verdict.kind === 'decided' && sigs(verdict.result)).toEqual(['s4', 's3']);
    // One fresh node against one liar: neither newest entry can be told true, so both stay out.
    expect(verdict).toMatchObject({ agreed: [0, 1, 2], dissented: [] });
    const withSecondFresh = tallySolanaVotes([answer(fresh), answer(lagging), answer(fresh)], { ...lists, final: true });
    expect(withSecondFresh.kind === 'decided' && sigs(withSecondFresh.result)).toEqual(['s5', 's4', 's3']);
    const liarAlone = tallySolanaVotes([answer(fresh), answer(forged), answer(fresh)], { ...lists, final: true });
    expect(liarAlone).toMatchObject({ kind: 'decided', agreed: [0, 2], dissented: [1] });
    expect(liarAlone.kind === 'decided' && sigs(liarAlone.result)).toEqual(['s5', 's4', 's3']);
  });

  it('returns the entries as the first node to list them sent them, newest first', () => {
    const a = list(['s6', 110], ['s5', 105], ['s4', 100]);
    const b = list(['s5', 105], ['s4', 100], ['s3', 95]);
    const verdict = tallySolanaVotes([answer(a), answer(b), answer(b)], { ...lists, final: true });
    expect(verdict.kind === 'decided' && verdict.result).toEqual(list(['s5', 105], ['s4', 100], ['s3', 95]));
  });

  it('waits while a pending answer could still confirm an entry, decides once none can', () => {
    expect(tallySolanaVotes([answer(fresh), answer(lagging), pending], { ...lists, final: false })).toEqual({ kind: 'wait' });
    expect(tallySolanaVotes([answer(fresh), answer(fresh), pending], { ...lists, final: false }).kind).toBe('decided');
  });

  it('agreeing on nothing needs a quorum of empty answers', () => {
    expect(tallySolanaVotes([answer([]), answer([]), answer(list(['F', 5]))], { ...lists, final: true })).toMatchObject({
      kind: 'decided',
      result: [],
      dissented: [],
    });
    const split = tallySolanaVotes([answer(list(['A', 5])), answer(list(['B', 5])), answer([])], { ...lists, final: true });
    expect(split).toMatchObject({ kind: 'failed', reason: 'disagreement' });
  });

  it('too few answers is not a disagreement', () => {
    expect(tallySolanaVotes([answer(fresh), failed, unanswered], { ...lists, final: true })).toMatchObject({
      kind: 'failed',
      reason: 'too-few',
    });
  });
});
