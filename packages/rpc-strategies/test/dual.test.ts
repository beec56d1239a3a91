import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDualBalancer, dual } from '@x/rpc-strategies';
import type { DualBalancer } from '@x/rpc-strategies';
import { ep, flush, recorder, rejection, settle, simulate } from './helpers.js';
import type { Endpoint } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('dual', () => {
  it('fails over inside a pair without waiting: the secondary was started with the primary', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const call = settle(
      dual([{ primary: ep('p', 5, { fails: 'server' }), secondary: ep('s', 12) }], sim.attempt, { onAttempt: rec.onAttempt }),
    );
    await vi.advanceTimersByTimeAsync(12);
    const result = await call;
    expect(sim.seen.map((s) => `${s.name}@${s.startedAt}`)).toEqual(['p@0', 's@0']);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ value: 's', pair: 0, role: 'secondary', index: 1, latencyMs: 12, elapsedMs: 12 });
    expect(result.value.failures.map((f) => f.error.code)).toEqual(['P_FAILED']);
    expect(rec.lines()).toEqual(['p:P_FAILED', 's:ok']);
  });

  it("across: 'race' starts every pair at once; indexes count the pairs flattened", async () => {
    const sim = simulate();
    const call = settle(
      dual(
        [{ primary: ep('p0', 50), secondary: ep('s0', 60) }, { primary: ep('p1', 10) }, { primary: ep('p2', 40), secondary: ep('s2', 8) }],
        sim.attempt,
        {
          across: 'race',
        },
      ),
    );
    await vi.advanceTimersByTimeAsync(8);
    const result = await call;
    expect(sim.seen.map((s) => s.name)).toEqual(['p0', 's0', 'p1', 'p2', 's2']);
    expect(result.ok && [result.value.value, result.value.pair, result.value.role, result.value.index]).toEqual(['s2', 2, 'secondary', 4]);
    await flush();
    expect(sim.seen.filter((s) => s.signal.aborted).map((s) => s.name)).toEqual(['p0', 's0', 'p1', 'p2']);
  });

  it("across: 'balance' takes one pair per call, round-robin through the balancer", async () => {
    const sim = simulate();
    const balancer = createDualBalancer();
    const pairs = [
      { primary: ep('p0', 5), secondary: ep('s0', 6) },
      { primary: ep('p1', 5), secondary: ep('s1', 6) },
    ];
    const pairsUsed: number[] = [];
    for (let i = 0; i < 3; i++) {
      const call = settle(dual(pairs, sim.attempt, { across: 'balance', balancer }));
      await vi.advanceTimersByTimeAsync(5);
      const result = await call;
      if (result.ok) pairsUsed.push(result.value.pair);
      await flush();
    }
    expect(pairsUsed).toEqual([0, 1, 0]);
    expect(sim.seen.map((s) => s.name)).toEqual(['p0', 's0', 'p1', 's1', 'p0', 's0']);
  });

  it('balance falls over to the next pair only when both of a pair fail', async () => {
    const sim = simulate();
    const call = settle(
      dual(
        [
          { primary: ep('p0', 5, { fails: 'network' }), secondary: ep('s0', 9, { fails: 'timeout' }) },
          { primary: ep('p1', 4), secondary: ep('s1', 20) },
        ],
        sim.attempt,
        { across: 'balance' },
      ),
    );
    await vi.advanceTimersByTimeAsync(13);
    const result = await call;
    expect(sim.seen.map((s) => `${s.name}@${s.startedAt}`)).toEqual(['p0@0', 's0@0', 'p1@9', 's1@9']);
    expect(result.ok && [result.value.value, result.value.pair, result.value.role, result.value.elapsedMs, result.value.started]).toEqual([
      'p1',
      1,
      'primary',
      13,
      4,
    ]);
    await flush();
  });

  it('balance wraps around from the balancer’s pair and reports all failures when every pair fails', async () => {
    const sim = simulate();
    const balancer: DualBalancer = { next: () => 1 };
    const call = rejection(
      dual(
        [
          { primary: ep('p0', 1, { fails: 'server' }) },
          { primary: ep('p1', 2, { fails: 'server' }), secondary: ep('s1', 3, { fails: 'server' }) },
        ],
        sim.attempt,
        {
          across: 'balance',
          balancer,
        },
      ),
    );
    await vi.advanceTimersByTimeAsync(10);
    const error = await call;
    expect(sim.seen.map((s) => s.name)).toEqual(['p1', 's1', 'p0']);
    expect(error).toMatchObject({ code: 'STRATEGY_ALL_ATTEMPTS_FAILED', category: 'server' });
    expect((error.context.failures as { index: number }[]).map((f) => f.index)).toEqual([0, 1, 2]);
  });

  it('a non-failover error ends the call at once, even with pairs left', async () => {
    const sim = simulate();
    const call = rejection(
      dual([{ primary: ep('p0', 1, { fails: 'config' }), secondary: ep('s0', 50) }, { primary: ep('p1', 1) }], sim.attempt, {
        across: 'balance',
      }),
    );
    await vi.advanceTimersByTimeAsync(1);
    expect(await call).toMatchObject({ code: 'P0_FAILED', category: 'config' });
    await flush();
    expect(sim.seen.map((s) => [s.name, s.signal.aborted])).toEqual([
      ['p0', false],
      ['s0', true],
    ]);
  });

  it('the balancer adapts when the number of pairs changes', () => {
    const balancer = createDualBalancer();
    expect([balancer.next(3), balancer.next(3), balancer.next(2), balancer.next(2), balancer.next(1)]).toEqual([0, 1, 0, 1, 0]);
  });

  it('rejects malformed pairs and options', async () => {
    const attempt = vi.fn(() => Promise.resolve(1));
    expect(await rejection(dual([], attempt))).toMatchObject({ code: 'STRATEGY_NO_CANDIDATES' });
    expect(await rejection(dual([{ secondary: 1 } as never], attempt))).toMatchObject({ code: 'STRATEGY_INVALID_OPTIONS' });
    expect(await rejection(dual([{ primary: 1 }], attempt, { across: 'both' as never }))).toMatchObject({
      code: 'STRATEGY_INVALID_OPTIONS',
    });
    expect(attempt).not.toHaveBeenCalled();
  });
});
