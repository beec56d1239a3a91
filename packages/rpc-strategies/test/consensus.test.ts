import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canonicalKey, consensus } from '@x/rpc-strategies';
import { ep, flush, recorder, rejection, settle, simulate } from './helpers.js';
import type { Endpoint } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

const names = (votes: readonly { candidate: Endpoint }[]) => votes.map((v) => v.candidate.name);

describe('consensus', () => {
  it('decides as soon as a group reaches quorum and aborts the rest', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = settle(
      consensus(
        [
          ep('a', 10, { value: { slot: 5, hash: 'x' } }),
          ep('b', 20, { value: { hash: 'x', slot: 5 } }),
          ep('c', 500, { value: { slot: 5, hash: 'x' } }),
        ],
        sim.attempt,
        { quorum: 2, onAttempt: rec.onAttempt },
      ),
    );
    await vi.advanceTimersByTimeAsync(20);
    const result = await call;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const verdict = result.value;
    expect(verdict).toMatchObject({
      value: { slot: 5, hash: 'x' },
      key: '{"hash":"x","slot":5}',
      weight: 2,
      quorum: 2,
      pending: [2],
      latencyMs: 20,
    });
    expect(verdict.agreed.map((v) => [v.candidate.name, v.index, v.latencyMs])).toEqual([
      ['a', 0, 10],
      ['b', 1, 20],
    ]);
    expect(verdict.dissented).toEqual([]);
    expect(verdict.failed).toEqual([]);
    await flush();
    expect(sim.byName('c').signal.aborted).toBe(true);
    expect(rec.lines()).toEqual(['a:ok', 'b:ok', 'c:STRATEGY_ATTEMPT_ABORTED:loser']);
  });

  it('fails with STRATEGY_QUORUM_UNREACHABLE as soon as quorum can no longer be reached, without waiting', async () => {
    const sim = simulate();
    const call = rejection(
      consensus([ep('a', 10, { value: 1 }), ep('b', 20, { value: 2 }), ep('c', 10_000, { value: 1 })], sim.attempt, { quorum: 3 }),
    );
    await vi.advanceTimersByTimeAsync(20);
    const error = await call;
    expect(error).toMatchObject({ code: 'STRATEGY_QUORUM_UNREACHABLE', category: 'protocol' });
    expect(error.context).toMatchObject({
      quorum: 3,
      pending: [2],
      groups: [
        { key: '1', weight: 1, indexes: [0] },
        { key: '2', weight: 1, indexes: [1] },
      ],
    });
    await flush();
    expect(sim.byName('c').signal.aborted).toBe(true);
  });

  it('a liar answering first is outvoted and named among the dissenters with its value', async () => {
    const sim = simulate();
    const call = settle(
      consensus(
        [
          ep('liar', 1, { value: { balance: 999 } }),
          ep('h1', 10, { value: { balance: 5 } }),
          ep('h2', 12, { value: { balance: 5 } }),
          ep('h3', 30, { value: { balance: 5 } }),
        ],
        sim.attempt,
        { quorum: 3 },
      ),
    );
    await vi.advanceTimersByTimeAsync(30);
    const result = await call;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.value).toEqual({ balance: 5 });
    expect(names(result.value.agreed)).toEqual(['h1', 'h2', 'h3']);
    expect(result.value.dissented.map((v) => [v.candidate.name, v.value, v.key])).toEqual([['liar', { balance: 999 }, '{"balance":999}']]);
  });

  it('ties: a 2–2 split cannot make 3 of 4; with quorum 2 the group that gets there first wins', async () => {
    const sim = simulate();
    const four = [ep('a', 10, { value: 'x' }), ep('b', 20, { value: 'y' }), ep('c', 30, { value: 'y' }), ep('d', 40, { value: 'x' })];
    const split = rejection(consensus(four, sim.attempt, { quorum: 3 }));
    await vi.advanceTimersByTimeAsync(30);
    // x:1, y:2 with one pending: 3 is still possible for y.
    await vi.advanceTimersByTimeAsync(10);
    const error = await split;
    expect(error).toMatchObject({ code: 'STRATEGY_QUORUM_UNREACHABLE', category: 'protocol', context: { pending: [] } });
    expect((error.context.groups as { weight: number }[]).map((g) => g.weight)).toEqual([2, 2]);

    const low = settle(consensus(four, sim.attempt, { quorum: 2 }));
    await vi.advanceTimersByTimeAsync(30);
    const result = await low;
    expect(result.ok && [result.value.value, names(result.value.agreed), names(result.value.dissented)]).toEqual(['y', ['b', 'c'], ['a']]);
    await flush();
  });

  it('weights: one heavy vote can outweigh two light ones', async () => {
    const sim = simulate();
    const weights: Record<string, number> = { heavy: 0.6, l1: 0.2, l2: 0.2 };
    const call = settle(
      consensus([ep('l1', 5, { value: 'old' }), ep('l2', 6, { value: 'old' }), ep('heavy', 20, { value: 'new' })], sim.attempt, {
        quorum: { weight: 0.5 },
        weight: (c) => weights[c.name] ?? 0,
      }),
    );
    await vi.advanceTimersByTimeAsync(20);
    const result = await call;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ value: 'new', weight: 0.6, quorum: 0.5 });
    expect(result.value.dissented.map((v) => [v.candidate.name, v.weight])).toEqual([
      ['l1', 0.2],
      ['l2', 0.2],
    ]);
  });

  it('weights sum with floating-point tolerance (0.1 + 0.2 reaches 0.3)', async () => {
    const sim = simulate();
    const w = [0.1, 0.2];
    const call = settle(
      consensus([ep('a', 1, { value: 1 }), ep('b', 2, { value: 1 })], sim.attempt, {
        quorum: { weight: 0.3 },
        weight: (_c, i) => w[i] ?? 0,
      }),
    );
    await vi.advanceTimersByTimeAsync(2);
    const result = await call;
    expect(result.ok && result.value.agreed.length).toBe(2);
  });

  it('weighted impossibility is detected early from the heaviest possible remaining votes', async () => {
    const sim = simulate();
    const weights: Record<string, number> = { a: 1, b: 1, c: 1 };
    const call = rejection(
      consensus([ep('a', 5, { value: 'p' }), ep('b', 6, { value: 'q' }), ep('c', 1_000, { value: 'p' })], sim.attempt, {
        quorum: { weight: 2.5 },
        weight: (c) => weights[c.name] ?? 0,
      }),
    );
    await vi.advanceTimersByTimeAsync(6);
    expect(await call).toMatchObject({ code: 'STRATEGY_QUORUM_UNREACHABLE' });
  });

  it('errors never vote, and a failed participant is replaced by the next candidate', async () => {
    const sim = simulate();
    const call = settle(
      consensus([ep('a', 5, { value: 7 }), ep('down', 2, { fails: 'network' }), ep('spare', 10, { value: 7 })], sim.attempt, {
        quorum: 2,
        maxParticipants: 2,
      }),
    );
    await vi.advanceTimersByTimeAsync(12);
    const result = await call;
    expect(sim.seen.map((s) => `${s.name}@${s.startedAt}`)).toEqual(['a@0', 'down@0', 'spare@2']);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(names(result.value.agreed)).toEqual(['a', 'spare']);
    expect(result.value.failed.map((f) => [f.index, f.error.code])).toEqual([[1, 'DOWN_FAILED']]);
  });

  it('when only failures stand in the way, the error takes their category', async () => {
    const sim = simulate();
    const call = rejection(
      consensus([ep('a', 5, { value: 1 }), ep('b', 2, { fails: 'timeout' }), ep('c', 3, { fails: 'timeout' })], sim.attempt, { quorum: 2 }),
    );
    await vi.advanceTimersByTimeAsync(3);
    const error = await call;
    expect(error).toMatchObject({ code: 'STRATEGY_QUORUM_UNREACHABLE', category: 'timeout' });
    expect((error.context.failures as { index: number }[]).map((f) => f.index)).toEqual([1, 2]);
    await flush();
  });

  it('a quorum larger than the participants can give fails at once, before any request', async () => {
    const attempt = vi.fn(() => Promise.resolve(1));
    const error = await rejection(consensus([1, 2, 3], attempt, { quorum: 3, maxParticipants: 2 }));
    expect(error).toMatchObject({ code: 'STRATEGY_QUORUM_UNREACHABLE', category: 'config' });
    expect(attempt).not.toHaveBeenCalled();
  });

  it('defaults to a strict majority of the participants', async () => {
    const sim = simulate();
    const five = ['a', 'b', 'c', 'd', 'e'].map((name, i) => ep(name, 10 * (i + 1), { value: 'v' }));
    const call = settle(consensus(five, sim.attempt));
    await vi.advanceTimersByTimeAsync(30);
    const result = await call;
    expect(result.ok && [result.value.quorum, names(result.value.agreed)]).toEqual([3, ['a', 'b', 'c']]);
    await flush();
  });

  it('normalize decides what "the same answer" means; its failure is that attempt failing', async () => {
    const sim = simulate();
    const call = settle(
      consensus([ep('a', 1, { value: 'ABC' }), ep('b', 2, { value: 'abc' }), ep('c', 3, { value: 'x' })], sim.attempt, {
        quorum: 2,
        normalize: (v) => {
          if (v === 'x') throw new Error('unparseable');
          return String(v).toLowerCase();
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(2);
    const result = await call;
    expect(result.ok && [result.value.key, result.value.value]).toEqual(['abc', 'ABC']);

    const broken = rejection(
      consensus([ep('a', 1, { value: 'x' }), ep('b', 2, { value: 'x' })], sim.attempt, {
        quorum: 2,
        normalize: () => {
          throw new Error('unparseable');
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(1);
    // One unusable answer of two already makes a quorum of 2 impossible.
    const error = await broken;
    expect(error).toMatchObject({ code: 'STRATEGY_QUORUM_UNREACHABLE', category: 'protocol', context: { pending: [1] } });
    const failures = error.context.failures as { error: { code: string; category: string } }[];
    expect(failures.map((f) => [f.error.code, f.error.category])).toEqual([['STRATEGY_NORMALIZE_FAILED', 'protocol']]);
    await flush();
  });

  it('the default key is canonical JSON: key order never splits a vote', () => {
    expect(canonicalKey({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
    expect(canonicalKey(10n)).toBe('10');
    expect(canonicalKey(undefined)).toBe('undefined');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => canonicalKey(circular)).toThrow(TypeError);
  });

  it('a non-failover error ends the call with that error', async () => {
    const sim = simulate();
    const call = rejection(
      consensus([ep('a', 1, { fails: 'config' }), ep('b', 5, { value: 1 }), ep('c', 5, { value: 1 })], sim.attempt, { quorum: 2 }),
    );
    await vi.advanceTimersByTimeAsync(1);
    expect(await call).toMatchObject({ code: 'A_FAILED', category: 'config' });
    await flush();
    expect(sim.byName('b').signal.aborted).toBe(true);
  });

  it('the deadline rejects with STRATEGY_DEADLINE_EXCEEDED naming the groups so far', async () => {
    const sim = simulate();
    const call = rejection(
      consensus([ep('a', 5, { value: 1 }), ep('b', 100, { value: 1 }), ep('c', 100, { value: 1 })], sim.attempt, {
        quorum: 2,
        deadlineMs: 50,
      }),
    );
    await vi.advanceTimersByTimeAsync(50);
    const error = await call;
    expect(error).toMatchObject({
      code: 'STRATEGY_DEADLINE_EXCEEDED',
      category: 'timeout',
      context: { quorum: 2, pending: [1, 2], groups: [{ key: '1', weight: 1 }] },
    });
    expect(sim.byName('b').signal.aborted).toBe(true);
  });

  it('rejects inconsistent options with STRATEGY_INVALID_OPTIONS', async () => {
    const attempt = vi.fn(() => Promise.resolve(1));
    expect(await rejection(consensus([1, 2], attempt, { quorum: 0 }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(consensus([1, 2], attempt, { quorum: 1.5 }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(consensus([1, 2], attempt, { quorum: { weight: Number.NaN } }))).toMatchObject({
      code: 'STRATEGY_INVALID_OPTIONS',
    });
    expect(await rejection(consensus([1, 2], attempt, { quorum: 2, weight: () => 1 }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(consensus([1, 2], attempt, { quorum: { weight: 1 }, weight: () => -1 }))).toMatchObject({
      code: 'STRATEGY_INVALID_OPTIONS',
    });
    expect(await rejection(consensus([1, 2], attempt, { maxParticipants: 0 }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(attempt).not.toHaveBeenCalled();
  });
});
