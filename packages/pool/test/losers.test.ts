import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPool } from '@x/pool';
import type { Pool, PoolAttemptFn } from '@x/pool';

// An endpoint is judged on what it did, not on the calls around it: a deadline that cuts every attempt
// counts against an endpoint only when that endpoint ran past what it normally needs, and being cut as a
// loser (another endpoint was faster) shows it was alive.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Answers after `latencyMs[endpoint.id]` of (fake) time; aborts cleanly. */
const answering =
  (latencyMs: Readonly<Record<string, number>>): PoolAttemptFn<string, string> =>
  (endpoint, { signal }) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve(endpoint.id), latencyMs[endpoint.id]);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      });
    });

async function run(
  pool: Pool<string>,
  attempt: PoolAttemptFn<string, string>,
  options: Parameters<Pool<string>['execute']>[1],
): Promise<void> {
  const outcome = pool.execute(attempt, options).catch(() => undefined);
  await vi.advanceTimersByTimeAsync(1_000);
  await outcome;
}

const health = (pool: Pool<string>): Record<string, { health: string; ejectionsTotal: number }> =>
  Object.fromEntries(
    pool.snapshot().endpoints.map((endpoint) => [endpoint.id, { health: endpoint.health, ejectionsTotal: endpoint.ejectionsTotal }]),
  );

describe('losers are not ejected for everyone’s failures', () => {
  it('an endpoint always a little slower than another is never ejected (race, and hedge)', async () => {
    for (const strategy of ['race', 'hedge'] as const) {
      const pool = createPool({
        endpoints: [
          { id: 'fast', target: 'fast' },
          { id: 'slower', target: 'slower' },
        ],
      });
      const attempt = answering({ fast: 10, slower: 12 });
      for (let call = 0; call < 120; call++) {
        // Every third call has a budget too short for anyone: its deadline cuts every attempt.
        const deadlineMs = call % 3 === 2 ? 8 : 100;
        await run(pool, attempt, strategy === 'race' ? { strategy, deadlineMs } : { strategy, deadlineMs, hedgeDelayMs: 0 });
      }
      expect(health(pool)).toEqual({ fast: { health: 'healthy', ejectionsTotal: 0 }, slower: { health: 'healthy', ejectionsTotal: 0 } });
    }
  });

  it('a saturated caller whose deadlines cut every attempt does not eject every endpoint', async () => {
    const pool = createPool({ endpoints: ['a', 'b', 'c'].map((id) => ({ id, target: id })) });
    // Learned in calmer times: each endpoint answers in about 30 ms.
    const calm = answering({ a: 30, b: 31, c: 32 });
    for (let call = 0; call < 20; call++) await run(pool, calm, { strategy: 'race', deadlineMs: 1_000 });
    // Saturated: answers take 60 ms (queueing in the caller), and 100 concurrent 20 ms budgets cut every one.
    const saturated = answering({ a: 60, b: 61, c: 62 });
    const calls = Array.from({ length: 100 }, () => pool.execute(saturated, { strategy: 'race', deadlineMs: 20 }).catch(() => undefined));
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(calls);
    // Cut before they could have answered by their own record: the calls' budgets were the cause.
    expect(Object.values(health(pool)).map((endpoint) => endpoint.health)).toEqual(['healthy', 'healthy', 'healthy']);
  });

  it('when every endpoint fails at once, at most half of them are ejected (ejection.maxEjectedShare)', async () => {
    const pool = createPool({ endpoints: ['a', 'b', 'c', 'd'].map((id) => ({ id, target: id })) });
    // A fresh pool knows nothing of their latency; every call's deadline cuts every attempt.
    const calls = Array.from({ length: 100 }, () =>
      pool.execute(answering({ a: 60, b: 61, c: 62, d: 63 }), { strategy: 'race', deadlineMs: 20 }).catch(() => undefined),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(calls);
    expect(Object.values(health(pool)).filter((endpoint) => endpoint.health === 'ejected')).toHaveLength(2);
    expect(pool.select().endpoints).toHaveLength(2);
  });

  it('an endpoint that hangs past its own latency is still counted as a timeout when the deadline cuts it', async () => {
    const pool = createPool({
      endpoints: [
        { id: 'a', target: 'a' },
        { id: 'b', target: 'b' },
      ],
    });
    for (let call = 0; call < 20; call++) await run(pool, answering({ a: 5, b: 5 }), { strategy: 'race', deadlineMs: 1_000 });
    await run(pool, answering({ a: 10_000, b: 10_000 }), { strategy: 'race', deadlineMs: 100 });
    const totals = Object.fromEntries(pool.snapshot().endpoints.map((endpoint) => [endpoint.id, endpoint.totals.timeout]));
    expect(totals).toEqual({ a: 1, b: 1 });
  });
});
