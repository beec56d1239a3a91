import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createPool } from '@x/pool';
import type { EndpointConfig, Pool } from '@x/pool';
import { fail, ok } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function poolWithLatencies(
  latencies: Record<string, number>,
  extra: Partial<Record<string, Partial<EndpointConfig<string>>>> = {},
): Pool<string> {
  const pool = createPool({
    endpoints: Object.keys(latencies).map((id) => ({ id, target: `${id}.example`, ...extra[id] })),
    statistics: { ewmaHalfLifeSamples: 1 },
  });
  for (const [id, ms] of Object.entries(latencies)) if (ms >= 0) pool.record(id, ok(ms));
  return pool;
}

const roleOf = (pool: Pool<unknown>, id: string): string | undefined =>
  pool.snapshot().endpoints.find((endpoint) => endpoint.id === id)?.role;

/**
 * The pairs `execute({ strategy: 'dual' })` runs, read from the calls themselves: one call per
 * endpoint in which only that endpoint answers (the others hang until aborted as losers), so the
 * result says which pair and role the dual strategy gave it.
 */
async function pairsOf(pool: Pool<string>, maxPairs?: number): Promise<{ pairs: Array<[string, string | undefined]>; degraded: boolean }> {
  const pairs: Array<[string, string | undefined]> = [];
  let degraded = false;
  for (const endpoint of pool.endpoints) {
    const winner = endpoint.id;
    let chosen: string[] = [];
    const attempt = (candidate: { id: string }, { signal }: { signal: AbortSignal }): Promise<string> =>
      candidate.id === winner
        ? Promise.resolve(candidate.id)
        : new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    const controller = new AbortController();
    const call = pool.execute(attempt, {
      strategy: 'dual',
      signal: controller.signal,
      maxCandidates: maxPairs,
      onSelection: (selection) => {
        chosen = selection.endpoints.map((e) => e.id);
        degraded = selection.degraded;
      },
    });
    if (!chosen.includes(winner)) {
      // Not part of any pair: nothing can win, so end the call.
      controller.abort();
      await call.catch(() => undefined);
      continue;
    }
    const result = await call;
    const entry = (pairs[result.pair] ??= ['', undefined]);
    if (result.role === 'primary') entry[0] = winner;
    else entry[1] = winner;
  }
  return { pairs, degraded };
}

const ids = (pool: Pool<unknown>, options?: Parameters<Pool<unknown>['select']>[0]): string[] =>
  pool.select(options).endpoints.map((endpoint) => endpoint.id);

describe('ranking', () => {
  it('orders by latency cost, fastest first', () => {
    expect(ids(poolWithLatencies({ a: 50, b: 10, c: 30 }))).toEqual(['b', 'c', 'a']);
  });

  it('documents its score: (peak + 1) × (1 + inFlight) × (1 + 10 × failureRate) / weight', () => {
    const pool = poolWithLatencies({ a: 19 }, { a: { weight: 2 } });
    pool.record('a', fail('server'));
    pool.startAttempt('a');
    // 19 ms → (19 + 1) × (1 + 1) × (1 + 10 × 0.5) / 2 = 120
    expect(pool.snapshot().endpoints[0]?.score).toBe(120);
  });

  it('divides the score by the weight', () => {
    // a: 21 / 4 = 5.25 beats b: 11 / 1
    expect(ids(poolWithLatencies({ a: 20, b: 10 }, { a: { weight: 4 } }))).toEqual(['a', 'b']);
  });

  it('penalises failures in the window', () => {
    const pool = poolWithLatencies({ a: 10, b: 30 });
    pool.record('a', fail('server'));
    // a: 11 × (1 + 10 × 0.5) = 66 vs b: 31
    expect(ids(pool)).toEqual(['b', 'a']);
  });

  it('penalises in-flight attempts, so concurrent calls spread out', () => {
    const pool = poolWithLatencies({ a: 10, b: 15 });
    expect(ids(pool)).toEqual(['a', 'b']);
    const tracker = pool.startAttempt('a');
    expect(ids(pool)).toEqual(['b', 'a']);
    tracker.finish(ok(10));
    expect(ids(pool)).toEqual(['a', 'b']);
  });

  it('scores an endpoint without samples at the median of the known ones, and keeps configuration order on ties', () => {
    // Median of 10, 40, 60, 90 is 50: between the two middle ones.
    const pool = poolWithLatencies({ slow: 90, fresh: -1, fast: 10, lower: 40, upper: 60 });
    expect(ids(pool)).toEqual(['fast', 'lower', 'fresh', 'upper', 'slow']);
    // An exact tie with a known endpoint goes by configuration order.
    expect(ids(poolWithLatencies({ fresh: -1, a: 10, b: 50, c: 90 }))).toEqual(['a', 'fresh', 'b', 'c']);
    expect(
      ids(
        createPool({
          endpoints: [
            { id: 'x', target: 1 },
            { id: 'y', target: 2 },
            { id: 'z', target: 3 },
          ],
        }),
      ),
    ).toEqual(['x', 'y', 'z']);
  });

  it('limits the number of candidates', () => {
    const pool = poolWithLatencies({ a: 50, b: 10, c: 30 });
    expect(ids(pool, { maxCandidates: 2 })).toEqual(['b', 'c']);
  });

  it('rejects nonsensical limits with a config XError', () => {
    const pool = poolWithLatencies({ a: 1 });
    for (const options of [{ maxCandidates: 0 }, { maxCandidates: 1.5 }, { minCandidates: -1 }, { maxCandidates: Number.NaN }]) {
      let caught: unknown;
      try {
        pool.select(options);
      } catch (error) {
        caught = error;
      }
      expect(isXError(caught, 'POOL_INVALID_OPTIONS')).toBe(true);
    }
  });
});

describe('roles', () => {
  it('classifies the faster half as primary and the rest as secondary when no role is given', () => {
    const pool = poolWithLatencies({ a: 40, b: 10, c: 30, d: 20 });
    const roles = Object.fromEntries(pool.snapshot().endpoints.map((e) => [e.id, [e.role, e.roleSource]]));
    expect(roles).toEqual({ a: ['secondary', 'auto'], b: ['primary', 'auto'], c: ['secondary', 'auto'], d: ['primary', 'auto'] });
    expect(ids(pool, { role: 'secondary' })).toEqual(['c', 'a']);
    expect(roleOf(pool, 'd')).toBe('primary');
  });

  it('re-classifies as latencies change', () => {
    const pool = poolWithLatencies({ a: 10, b: 20 });
    expect(roleOf(pool, 'a')).toBe('primary');
    pool.record('a', ok(100));
    expect([roleOf(pool, 'a'), roleOf(pool, 'b')]).toEqual(['secondary', 'primary']);
  });

  it('keeps configured roles and classifies only the rest (rounding the primary half up)', () => {
    const pool = poolWithLatencies({ a: 5, b: 10, c: 30, d: 20 }, { a: { role: 'secondary' } });
    const roles = Object.fromEntries(pool.snapshot().endpoints.map((e) => [e.id, [e.role, e.roleSource]]));
    expect(roles).toEqual({ a: ['secondary', 'configured'], b: ['primary', 'auto'], c: ['secondary', 'auto'], d: ['primary', 'auto'] });
  });

  it('pairs primaries (best first) with secondaries (most reliable first), each endpoint once', async () => {
    const pool = poolWithLatencies(
      { p1: 10, p2: 12, s1: 40, s2: 30 },
      {
        p1: { role: 'primary' },
        p2: { role: 'primary' },
        s1: { role: 'secondary' },
        s2: { role: 'secondary' },
      },
    );
    // s2 is faster but has failed; s1 is the reliable one.
    pool.record('s2', fail('server'));
    const { pairs, degraded } = await pairsOf(pool);
    expect(degraded).toBe(false);
    expect(pairs).toEqual([
      ['p1', 's1'],
      ['p2', 's2'],
    ]);
    expect((await pairsOf(pool, 1)).pairs).toEqual([['p1', 's1']]);
  });

  it('leaves surplus primaries without a secondary and lets secondaries serve alone when no primary is available', async () => {
    const pool = createPool({
      endpoints: [
        { id: 'p1', target: 'p1', role: 'primary' },
        { id: 'p2', target: 'p2', role: 'primary' },
        { id: 's1', target: 's1', role: 'secondary' },
      ],
      ejection: { consecutiveFailures: 1 },
    });
    expect((await pairsOf(pool)).pairs).toEqual([
      ['p1', 's1'],
      ['p2', undefined],
    ]);
    pool.record('p1', fail('server'));
    pool.record('p2', fail('server'));
    expect(await pairsOf(pool)).toEqual({ degraded: false, pairs: [['s1', undefined]] });
  });

  it('hands out the endpoint objects with their targets, labels and weights', () => {
    const target = { host: '10.0.0.1', port: 18000 };
    const pool = createPool({ endpoints: [{ id: 'raida0', target, weight: 2, role: 'primary' }] });
    expect(pool.select().endpoints[0]).toEqual({ id: 'raida0', target, label: 'raida0', weight: 2, configuredRole: 'primary' });
    expect(pool.select().endpoints[0]?.target).toBe(target);
    expect(pool.endpoints).toEqual([{ id: 'raida0', target, label: 'raida0', weight: 2, configuredRole: 'primary' }]);
  });
});
