import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_HEDGE_BUDGET, adaptiveDelay, createHedgeBudget, hedge } from '@x/rpc-strategies';
import type { HedgeBudget } from '@x/rpc-strategies';
import { ep, flush, recorder, rejection, settle, simulate } from './helpers.js';
import type { Endpoint } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

const started = (sim: ReturnType<typeof simulate>) => sim.seen.map((s) => `${s.name}@${s.startedAt}`);

describe('hedge', () => {
  it('starts the next candidate only after the delay, and the first success wins', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = settle(
      hedge([ep('best', 100), ep('second', 20), ep('third', 5)], sim.attempt, { hedgeDelayMs: 30, onAttempt: rec.onAttempt }),
    );
    await vi.advanceTimersByTimeAsync(29);
    expect(started(sim)).toEqual(['best@0']);
    await vi.advanceTimersByTimeAsync(1);
    expect(started(sim)).toEqual(['best@0', 'second@30']);
    await vi.advanceTimersByTimeAsync(20);
    const result = await call;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      value: 'second',
      index: 1,
      attempt: 1,
      latencyMs: 20,
      elapsedMs: 50,
      started: 2,
      hedges: 1,
      budgetDenied: false,
    });
    await flush();
    // The third was never started: the second won before its delay ran out.
    expect(started(sim)).toEqual(['best@0', 'second@30']);
    expect(rec.lines()).toEqual(['second:ok', 'best:STRATEGY_ATTEMPT_ABORTED:loser']);
    expect(sim.byName('best').signal.aborted).toBe(true);
  });

  it('a fast first answer means no hedge at all', async () => {
    const sim = simulate();
    const call = settle(hedge([ep('best', 10), ep('second', 1)], sim.attempt, { hedgeDelayMs: 30 }));
    await vi.advanceTimersByTimeAsync(10);
    const result = await call;
    expect(result.ok && [result.value.value, result.value.hedges, result.value.started]).toEqual(['best', 0, 1]);
    expect(sim.seen).toHaveLength(1);
  });

  it('a failure starts the next candidate at once, without waiting for the delay', async () => {
    const sim = simulate();
    const call = settle(
      hedge([ep('broken', 5, { fails: 'network' }), ep('second', 10), ep('third', 10)], sim.attempt, { hedgeDelayMs: 100 }),
    );
    await vi.advanceTimersByTimeAsync(15);
    const result = await call;
    expect(started(sim)).toEqual(['broken@0', 'second@5']);
    expect(result.ok && [result.value.value, result.value.hedges, result.value.failures.length]).toEqual(['second', 0, 1]);
  });

  it('asks a delay function about the candidate just started', async () => {
    const sim = simulate();
    const delayMs = vi.fn((candidate: { ms: number }, index: number) => (index === 0 ? 10 : 40) + candidate.ms * 0);
    const call = settle(hedge([ep('a', 1_000), ep('b', 1_000), ep('c', 5)], sim.attempt, { hedgeDelayMs: delayMs }));
    await vi.advanceTimersByTimeAsync(55);
    expect(started(sim)).toEqual(['a@0', 'b@10', 'c@50']);
    expect(delayMs.mock.calls.map(([c, i]) => [(c as Endpoint).name, i])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    const result = await call;
    expect(result.ok && result.value.value).toBe('c');
    await flush();
  });

  it('a non-finite delay means no hedge after that candidate; failover still happens', async () => {
    const sim = simulate();
    const call = settle(hedge([ep('a', 500), ep('b', 5)], sim.attempt, { hedgeDelayMs: () => Number.NaN }));
    await vi.advanceTimersByTimeAsync(499);
    expect(sim.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const result = await call;
    expect(result.ok && result.value.value).toBe('a');

    const failing = settle(hedge([ep('a', 50, { fails: 'server' }), ep('b', 5)], sim.attempt, { hedgeDelayMs: Number.POSITIVE_INFINITY }));
    await vi.advanceTimersByTimeAsync(55);
    const second = await failing;
    expect(second.ok && second.value.value).toBe('b');
  });

  it('maxAttempts bounds the attempts, then all failures end the call', async () => {
    const sim = simulate();
    const call = rejection(
      hedge([ep('a', 50, { fails: 'timeout' }), ep('b', 50, { fails: 'timeout' }), ep('c', 1)], sim.attempt, {
        hedgeDelayMs: 10,
        maxAttempts: 2,
      }),
    );
    await vi.advanceTimersByTimeAsync(100);
    const error = await call;
    expect(error).toMatchObject({ code: 'STRATEGY_ALL_ATTEMPTS_FAILED', category: 'timeout' });
    expect(started(sim)).toEqual(['a@0', 'b@10']);
  });

  it('when the budget is exhausted no hedge starts by delay, but failover after a failure still does', async () => {
    const sim = simulate();
    const budget = createHedgeBudget({ ratio: 0 });
    const slow = settle(hedge([ep('a', 100), ep('b', 5)], sim.attempt, { hedgeDelayMs: 10, budget }));
    await vi.advanceTimersByTimeAsync(100);
    const result = await slow;
    expect(result.ok && [result.value.value, result.value.hedges, result.value.budgetDenied]).toEqual(['a', 0, true]);
    expect(started(sim)).toEqual(['a@0']);

    const failing = settle(hedge([ep('c', 20, { fails: 'network' }), ep('d', 5)], sim.attempt, { hedgeDelayMs: 10, budget }));
    await vi.advanceTimersByTimeAsync(25);
    const second = await failing;
    expect(second.ok && second.value.value).toBe('d');
    expect(budget.snapshot()).toMatchObject({ calls: 2, acquired: 0, denied: 2 });
  });

  it('a shared budget lets a bounded share of calls hedge', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const budget = createHedgeBudget({ ratio: 0.5, minPerSecond: 0, burst: 1 });
    const hedgesPerCall: number[] = [];
    for (let i = 0; i < 4; i++) {
      const call = settle(
        hedge([ep(`slow${i}`, 100), ep(`quick${i}`, 5)], sim.attempt, { hedgeDelayMs: 10, budget, onAttempt: rec.onAttempt }),
      );
      await vi.advanceTimersByTimeAsync(100);
      const result = await call;
      if (result.ok) hedgesPerCall.push(result.value.hedges);
    }
    // Every call earns half an extra attempt: the 2nd and the 4th may hedge.
    expect(hedgesPerCall).toEqual([0, 1, 0, 1]);
    expect(budget.snapshot()).toMatchObject({ calls: 4, acquired: 2, denied: 2 });
    // Exactly one event per started attempt, numbered in start order.
    expect(rec.events.map((e) => `${e.candidate.name}#${e.attempt}`)).toEqual([
      'slow0#0',
      'quick1#1',
      'slow1#0',
      'slow2#0',
      'quick3#1',
      'slow3#0',
    ]);
  });

  it('rejects a missing or invalid delayMs and bad maxAttempts before starting anything', async () => {
    const attempt = vi.fn(() => Promise.resolve(1));
    expect(await rejection(hedge([1], attempt))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(hedge([1], attempt, { hedgeDelayMs: -1 }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(hedge([1], attempt, { hedgeDelayMs: 5, maxAttempts: 0 }))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(hedge([1], attempt, { hedgeDelayMs: 5, budget: {} as HedgeBudget }))).toMatchObject({
      code: 'STRATEGY_INVALID_OPTIONS',
    });
    expect(attempt).not.toHaveBeenCalled();
  });

  it('a throwing delay function ends the call with STRATEGY_HOOK_FAILED and aborts what runs', async () => {
    const sim = simulate();
    let calls = 0;
    const call = rejection(
      hedge([ep('a', 100), ep('b', 100), ep('c', 100)], sim.attempt, {
        hedgeDelayMs: () => {
          if (calls++ > 0) throw new Error('no stats');
          return 10;
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(10);
    const error = await call;
    expect(error).toMatchObject({ code: 'STRATEGY_HOOK_FAILED', category: 'config' });
    expect(error.message).toContain('no stats');
    await flush();
    expect(sim.seen.map((s) => [s.name, s.signal.aborted])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('a deadline clears the pending hedge timer', async () => {
    const sim = simulate();
    const call = rejection(hedge([ep('a', 100), ep('b', 100)], sim.attempt, { hedgeDelayMs: 50, deadlineMs: 20 }));
    await vi.advanceTimersByTimeAsync(20);
    expect(await call).toMatchObject({ code: 'STRATEGY_DEADLINE_EXCEEDED' });
    expect(sim.seen).toHaveLength(1);
  });
});

describe('createHedgeBudget', () => {
  it('allows extra attempts for at most `ratio` of the calls', () => {
    const budget = createHedgeBudget({ ratio: 0.1 });
    let granted = 0;
    for (let call = 0; call < 100; call++) {
      budget.recordCall();
      // Every call would like to hedge, as in a storm.
      if (budget.tryAcquire()) granted++;
    }
    expect(granted).toBe(10);
    expect(budget.snapshot()).toMatchObject({ calls: 100, acquired: 10, denied: 90 });
  });

  it('starts empty and saves up at most `burst`', () => {
    const budget = createHedgeBudget({ ratio: 0.5, burst: 3 });
    expect(budget.tryAcquire()).toBe(false);
    for (let call = 0; call < 100; call++) budget.recordCall();
    expect(budget.snapshot().available).toBe(3);
    expect([budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire()]).toEqual([true, true, true, false]);
  });

  it('createHedgeBudget() alone has the pool’s default budget (DEFAULT_HEDGE_BUDGET), not an empty one', () => {
    let now = 0;
    const budget = createHedgeBudget({ now: () => now });
    expect(DEFAULT_HEDGE_BUDGET).toEqual({ ratio: 0.1, minPerSecond: 5, burst: 10 });
    expect(budget.tryAcquire()).toBe(false);
    now = 200; // 5 a second: one hedge earned after 200 ms, without a single call
    expect(budget.tryAcquire()).toBe(true);
    now = 60_000;
    expect(budget.snapshot().available).toBe(10);
  });

  it('earns minPerSecond over time, so a quiet client can still hedge', () => {
    let now = 0;
    const budget = createHedgeBudget({ ratio: 0, minPerSecond: 2, now: () => now });
    expect(budget.tryAcquire()).toBe(false);
    now = 499;
    expect(budget.tryAcquire()).toBe(false);
    now = 500;
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(false);
    now = 100_000;
    expect(budget.snapshot().available).toBe(10);
  });

  it('rejects nonsense settings with STRATEGY_INVALID_OPTIONS', () => {
    expect(() => createHedgeBudget({ ratio: -0.1 })).toThrow(expect.objectContaining({ code: 'STRATEGY_INVALID_OPTIONS' }));
    expect(() => createHedgeBudget({ minPerSecond: Number.NaN })).toThrow(expect.objectContaining({ code: 'STRATEGY_INVALID_OPTIONS' }));
    expect(() => createHedgeBudget({ burst: 0.5 })).toThrow(expect.objectContaining({ code: 'STRATEGY_INVALID_OPTIONS' }));
  });
});

describe('adaptiveDelay', () => {
  it('scales and clamps a known latency and falls back when none is known', () => {
    const latency = new Map<string, number>([
      ['fast', 8],
      ['slow', 400],
      ['tiny', 0.5],
    ]);
    const delay = adaptiveDelay((name: string) => latency.get(name), { fallbackMs: 50, multiplier: 1.5, minMs: 2, maxMs: 200 });
    expect(delay('fast', 0)).toBe(12);
    expect(delay('slow', 1)).toBe(200);
    expect(delay('tiny', 2)).toBe(2);
    expect(delay('new', 3)).toBe(50);
    expect(() => adaptiveDelay(() => 1, { fallbackMs: -1 })).toThrow(expect.objectContaining({ code: 'STRATEGY_INVALID_OPTIONS' }));
    expect(() => adaptiveDelay(() => 1, { fallbackMs: 1, minMs: 5, maxMs: 4 })).toThrow(
      expect.objectContaining({ code: 'STRATEGY_INVALID_OPTIONS' }),
    );
  });

  it('drives hedge: a candidate known to be fast gets a short delay', async () => {
    const sim = simulate();
    const p95 = new Map([['a', 20]]);
    const call = settle(
      hedge([ep('a', 500), ep('b', 5)], sim.attempt, {
        hedgeDelayMs: adaptiveDelay((c: Endpoint) => p95.get(c.name), { fallbackMs: 100 }),
      }),
    );
    await vi.advanceTimersByTimeAsync(25);
    expect(started(sim)).toEqual(['a@0', 'b@20']);
    const result = await call;
    expect(result.ok && result.value.value).toBe('b');
    await flush();
  });
});
