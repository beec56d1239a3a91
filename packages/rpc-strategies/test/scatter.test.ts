import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scatter } from '@x/rpc-strategies';
import type { ScatterOutcome } from '@x/rpc-strategies';
import { ep, recorder, rejection, settle, simulate } from './helpers.js';
import type { Endpoint } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

const show = (outcomes: readonly (ScatterOutcome<unknown> | undefined)[]) =>
  outcomes.map((o) =>
    o === undefined
      ? 'pending'
      : o.ok
        ? `${String(o.value)}/${o.latencyMs}`
        : `${o.error.code}${o.aborted ? ':aborted' : ''}/${o.latencyMs}`,
  );

describe('scatter', () => {
  it('sends a different request to each candidate and returns one outcome per candidate in input order', async () => {
    interface Server {
      readonly id: number;
      readonly packet: string;
    }
    const servers: Server[] = [0, 1, 2].map((id) => ({ id, packet: `echo-${id}` }));
    const latency = [30, 10, 20];
    const requests: string[] = [];
    const call = settle(
      scatter(servers, (server) => {
        requests.push(server.packet);
        return new Promise<string>((resolve) => setTimeout(() => resolve(`reply-to-${server.packet}`), latency[server.id]));
      }),
    );
    await vi.advanceTimersByTimeAsync(30);
    const result = await call;
    expect(requests).toEqual(['echo-0', 'echo-1', 'echo-2']);
    expect(result.ok && show(result.value)).toEqual(['reply-to-echo-0/30', 'reply-to-echo-1/10', 'reply-to-echo-2/20']);
  });

  it('failures are outcomes, never the end of the call (shouldFailover does not apply)', async () => {
    const sim = simulate();
    const call = settle(scatter([ep('a', 5, { fails: 'config' }), ep('b', 8), ep('c', 3, { fails: 'timeout' })], sim.attempt));
    await vi.advanceTimersByTimeAsync(8);
    const result = await call;
    expect(result.ok && show(result.value)).toEqual(['A_FAILED/5', 'b/8', 'C_FAILED/3']);
    expect(result.ok && result.value.every((o) => !o.aborted)).toBe(true);
  });

  it('stops early when stopWhen says so; the rest are aborted outcomes, not failures', async () => {
    const sim = simulate();
    const rec = recorder<Endpoint>();
    const seenByPredicate: string[][] = [];
    const call = settle(
      scatter([ep('a', 10), ep('b', 40), ep('c', 20), ep('d', 5, { fails: 'network' })], sim.attempt, {
        onAttempt: rec.onAttempt,
        stopWhen: (outcomes, progress) => {
          seenByPredicate.push(show(outcomes));
          return progress.succeeded >= 2;
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(20);
    const result = await call;
    expect(seenByPredicate).toEqual([
      ['pending', 'pending', 'pending', 'D_FAILED/5'],
      ['a/10', 'pending', 'pending', 'D_FAILED/5'],
      ['a/10', 'pending', 'c/20', 'D_FAILED/5'],
    ]);
    expect(result.ok && show(result.value)).toEqual(['a/10', 'STRATEGY_ATTEMPT_ABORTED:aborted/20', 'c/20', 'D_FAILED/5']);
    const b = sim.byName('b');
    expect(b.signal.aborted).toBe(true);
    expect(b.abortEvents).toBe(1);
    expect(rec.lines()).toEqual(['d:D_FAILED', 'a:ok', 'c:ok', 'b:STRATEGY_ATTEMPT_ABORTED:loser']);
  });

  it('"13 can no longer agree": stop as soon as the threshold is out of reach', async () => {
    const sim = simulate();
    const servers = Array.from({ length: 25 }, (_, i) => ep(`r${i}`, 10 + i, i < 13 ? { fails: 'timeout' } : {}));
    const call = settle(
      scatter(servers, sim.attempt, {
        stopWhen: (_outcomes, p) => p.succeeded >= 13 || p.succeeded + p.pending < 13,
      }),
    );
    await vi.advanceTimersByTimeAsync(22);
    const result = await call;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.filter((o) => !o.ok && !o.aborted)).toHaveLength(13);
    expect(result.value.filter((o) => o.aborted)).toHaveLength(12);
  });

  it('the deadline resolves with what arrived; the unanswered are marked as cut by the deadline', async () => {
    const sim = simulate();
    const call = settle(scatter([ep('a', 5), ep('b', 100)], sim.attempt, { deadlineMs: 50 }));
    await vi.advanceTimersByTimeAsync(50);
    const result = await call;
    expect(result.ok && show(result.value)).toEqual(['a/5', 'STRATEGY_DEADLINE_EXCEEDED:aborted/50']);
    expect(sim.byName('b').signal.aborted).toBe(true);
  });

  it('per-attempt timeouts are that candidate’s failure', async () => {
    const sim = simulate();
    const call = settle(scatter([ep('a', 5), ep('b', 100)], sim.attempt, { attemptTimeoutMs: 30 }));
    await vi.advanceTimersByTimeAsync(30);
    const result = await call;
    expect(result.ok && show(result.value)).toEqual(['a/5', 'STRATEGY_ATTEMPT_TIMEOUT/30']);
  });

  it('an abort from outside rejects and aborts every attempt', async () => {
    const sim = simulate();
    const controller = new AbortController();
    const call = rejection(scatter([ep('a', 5), ep('b', 100)], sim.attempt, { signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    expect(await call).toMatchObject({ category: 'aborted' });
    expect(sim.byName('b').signal.aborted).toBe(true);
  });

  it('no candidates: an empty result; a throwing stopWhen: STRATEGY_HOOK_FAILED', async () => {
    const sim = simulate();
    expect(await scatter([], sim.attempt)).toEqual([]);
    const call = rejection(
      scatter([ep('a', 1), ep('b', 50)], sim.attempt, {
        stopWhen: () => {
          throw new Error('bad predicate');
        },
      }),
    );
    await vi.advanceTimersByTimeAsync(1);
    expect(await call).toMatchObject({ code: 'STRATEGY_HOOK_FAILED' });
    await Promise.resolve();
    expect(sim.byName('b').signal.aborted).toBe(true);
  });
});
