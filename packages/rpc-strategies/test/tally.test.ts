import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { XError, isXError } from '@x/errors';
import { consensus } from '@x/rpc-strategies';
import type { Ballot, ConsensusTally, TallyInput } from '@x/rpc-strategies';
import { ep, flush, recorder, rejection, settle, simulate } from './helpers.js';
import type { Endpoint } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

interface Answer {
  readonly slot: number;
  readonly value: string;
}

/**
 * A slot-aware tally like a Solana client's: answers agree on `value` (the slot is kept aside), two
 * agreeing answers decide, and the freshest answer of the winning group is returned.
 */
function freshestOfTwo(): ConsensusTally<Endpoint, Answer, { value: string; slot: number; from: number[] }> & {
  readonly seen: TallyInput<Endpoint, Answer>[];
} {
  const seen: TallyInput<Endpoint, Answer>[] = [];
  return {
    seen,
    accept: (answer) =>
      typeof answer.value === 'string' ? undefined : new XError({ code: 'TEST_MALFORMED', category: 'protocol', message: 'no value' }),
    decide(input) {
      seen.push({ ...input, ballots: [...input.ballots] });
      const groups = new Map<string, number[]>();
      input.ballots.forEach((ballot, index) => {
        if (ballot.status !== 'answered') return;
        groups.set(ballot.value.value, [...(groups.get(ballot.value.value) ?? []), index]);
      });
      for (const [value, indexes] of groups) {
        if (indexes.length < 2) continue;
        const slots = indexes.map((index) => (input.ballots[index] as Extract<Ballot<Answer>, { status: 'answered' }>).value.slot);
        return { kind: 'decided', verdict: { value, slot: Math.max(...slots), from: indexes } };
      }
      const open = input.ballots.filter((ballot) => ballot.status === 'pending' || ballot.status === 'spare').length;
      const largest = Math.max(0, ...[...groups.values()].map((indexes) => indexes.length));
      if (largest + Math.min(open, input.outstanding) >= 2 && !input.final) return { kind: 'wait' };
      return { kind: 'failed', error: new XError({ code: 'TEST_NO_CONSENSUS', category: 'protocol', message: 'no two agree' }) };
    },
  };
}

describe('consensus with a tally of its own', () => {
  it('resolves with the tally’s verdict and cuts the attempts still running', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const tally = freshestOfTwo();
    const call = settle(
      consensus(
        [
          ep('a', 10, { value: { slot: 7, value: 'x' } }),
          ep('b', 20, { value: { slot: 9, value: 'x' } }),
          ep('c', 500, { value: { slot: 9, value: 'x' } }),
        ],
        sim.attempt as (endpoint: Endpoint, context: { signal: AbortSignal; attempt: number }) => Promise<Answer>,
        { tally, onAttempt: rec.onAttempt },
      ),
    );
    await vi.advanceTimersByTimeAsync(20);
    const result = await call;
    expect(result).toEqual({ ok: true, value: { value: 'x', slot: 9, from: [0, 1] } });
    await flush();
    expect(sim.byName('c').signal.aborted).toBe(true);
    expect(rec.lines()).toEqual(['a:ok', 'b:ok', 'c:STRATEGY_ATTEMPT_ABORTED:loser']);
    // Asked before anything started (every participant pending), then after each answer.
    expect(tally.seen.map((input) => [input.reason, input.outstanding, input.ballots.map((ballot) => ballot.status).join(',')])).toEqual([
      ['start', 3, 'pending,pending,pending'],
      ['progress', 2, 'answered,pending,pending'],
      ['progress', 1, 'answered,answered,pending'],
    ]);
  });

  it('an answer its accept refuses is a failed ballot, replaced by a spare, and never ends the call', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = settle(
      consensus(
        [
          ep('bad', 5, { value: { slot: 1 } }),
          ep('a', 10, { value: { slot: 3, value: 'y' } }),
          ep('b', 30, { value: { slot: 2, value: 'y' } }),
        ],
        sim.attempt as (endpoint: Endpoint, context: { signal: AbortSignal; attempt: number }) => Promise<Answer>,
        { tally: freshestOfTwo(), maxParticipants: 2, onAttempt: rec.onAttempt },
      ),
    );
    await vi.advanceTimersByTimeAsync(40);
    expect(await call).toEqual({ ok: true, value: { value: 'y', slot: 3, from: [1, 2] } });
    expect(rec.lines()).toEqual(['bad:TEST_MALFORMED', 'a:ok', 'b:ok']);
  });

  it('rejects with the tally’s own error when it fails, and gives the deadline’s final tally unanswered ballots', async () => {
    const sim = simulate();
    const tally = freshestOfTwo();
    const call = rejection(
      consensus(
        [ep('a', 10, { value: { slot: 1, value: 'p' } }), ep('b', 1_000, { value: { slot: 1, value: 'q' } })],
        sim.attempt as (endpoint: Endpoint, context: { signal: AbortSignal; attempt: number }) => Promise<Answer>,
        { tally, deadlineMs: 50 },
      ),
    );
    await vi.advanceTimersByTimeAsync(50);
    const error = await call;
    expect(isXError(error, 'TEST_NO_CONSENSUS')).toBe(true);
    const last = tally.seen.at(-1)!;
    expect([last.reason, last.final, last.deadlineMs, last.ballots.map((ballot) => ballot.status)]).toEqual([
      'deadline',
      true,
      50,
      ['answered', 'unanswered'],
    ]);
    await flush();
    expect(sim.byName('b').signal.aborted).toBe(true);
  });

  it('a tally that waits with nothing left to wait for ends the call with STRATEGY_HOOK_FAILED', async () => {
    const sim = simulate();
    const call = rejection(consensus([ep('a', 10, { value: 1 })], sim.attempt, { tally: { decide: () => ({ kind: 'wait' as const }) } }));
    await vi.advanceTimersByTimeAsync(10);
    expect(await call).toMatchObject({ code: 'STRATEGY_HOOK_FAILED', context: { hook: 'tally.decide' } });
  });

  it('rejects a tally mixed with the default tally’s options, or one without decide, before starting anything', async () => {
    const sim = simulate();
    const tally = { decide: () => ({ kind: 'wait' as const }) };
    const mixed = await rejection(consensus([ep('a', 1)], sim.attempt, { tally, quorum: 1 } as never));
    expect(mixed).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS', context: { option: 'tally' } });
    const broken = await rejection(consensus([ep('a', 1)], sim.attempt, { tally: {} as never }));
    expect(broken).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS', context: { option: 'tally' } });
    expect(sim.seen).toEqual([]);
  });
});
