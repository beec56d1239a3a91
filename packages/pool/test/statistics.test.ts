import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createPool } from '@x/pool';
import type { EndpointSnapshot, Pool } from '@x/pool';
import { expectedQuantileRange, fail, ok } from './helpers.js';

function endpointOf(pool: Pool<unknown>, id: string): EndpointSnapshot {
  const found = pool.snapshot().endpoints.find((endpoint) => endpoint.id === id);
  if (found === undefined) throw new Error(`no endpoint ${id}`);
  return found;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('latency averages', () => {
  it('follows the EWMA of a known sequence (half-life 1 sample: alpha = 0.5)', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }], statistics: { ewmaHalfLifeSamples: 1 } });
    pool.record('a', ok(100));
    expect(endpointOf(pool, 'a').latency.ewmaMs).toBe(100);
    pool.record('a', ok(200));
    expect(endpointOf(pool, 'a').latency.ewmaMs).toBe(150);
    pool.record('a', ok(100));
    expect(endpointOf(pool, 'a').latency.ewmaMs).toBe(125);
  });

  it('uses alpha = 1 − 2^(−1/halfLife) for longer half-lives', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }], statistics: { ewmaHalfLifeSamples: 10 } });
    pool.record('a', ok(0));
    pool.record('a', ok(100));
    expect(endpointOf(pool, 'a').latency.ewmaMs).toBeCloseTo(100 * (1 - 2 ** -0.1), 10);
  });

  it('has a peak cost that jumps to a slow sample and decays toward the EWMA with time', () => {
    const pool = createPool({
      endpoints: [{ id: 'a', target: 'a' }],
      statistics: { ewmaHalfLifeSamples: 1, peakHalfLifeMs: 1_000 },
    });
    pool.record('a', ok(100));
    pool.record('a', ok(300));
    expect(endpointOf(pool, 'a').latency).toMatchObject({ ewmaMs: 200, peakEwmaMs: 300 });
    vi.advanceTimersByTime(1_000);
    // Excess over the EWMA halves per half-life: 200 + 100 / 2.
    expect(endpointOf(pool, 'a').latency.peakEwmaMs).toBe(250);
    pool.record('a', ok(100));
    // EWMA 200 → 150; peak 250 moves halfway toward 100 → 175.
    expect(endpointOf(pool, 'a').latency).toMatchObject({ ewmaMs: 150, peakEwmaMs: 175 });
  });

  it('has no latency figures before the first success', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    pool.record('a', fail('server'));
    expect(endpointOf(pool, 'a').latency).toEqual({ samples: 0, ewmaMs: null, peakEwmaMs: null, p50Ms: null, p90Ms: null, p99Ms: null });
  });
});

describe('latency quantiles (DDSketch over the sliding window)', () => {
  it('gives p50/p90/p99 of 1…1000 ms (shuffled) within the sketch accuracy', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    // A fixed permutation (multiplication by a unit mod 1001), so the order of arrival is not sorted.
    for (let i = 1; i <= 1000; i++) pool.record('a', ok((i * 337) % 1001));
    const { latency } = endpointOf(pool, 'a');
    expect(latency.samples).toBe(1000);
    const sorted = Array.from({ length: 1000 }, (_, index) => index + 1);
    for (const [value, quantile] of [
      [latency.p50Ms, 0.5],
      [latency.p90Ms, 0.9],
      [latency.p99Ms, 0.99],
    ] as const) {
      const [low, high] = expectedQuantileRange(sorted, quantile);
      expect(value).toBeGreaterThanOrEqual(low);
      expect(value).toBeLessThanOrEqual(high);
    }
  });

  it('forgets samples a whole bucket at a time once they leave the window', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }], statistics: { windowMs: 60_000, windowBuckets: 6 } });
    vi.setSystemTime(0);
    const start = performance.now();
    // Align to a bucket boundary so the arithmetic below is exact.
    vi.advanceTimersByTime(10_000 - (start % 10_000));
    for (let i = 0; i < 10; i++) pool.record('a', ok(1_000));
    vi.advanceTimersByTime(30_000);
    for (let i = 0; i < 10; i++) pool.record('a', ok(10));
    expect(endpointOf(pool, 'a').latency.samples).toBe(20);
    expect(endpointOf(pool, 'a').latency.p90Ms).toBeGreaterThan(900);

    vi.advanceTimersByTime(29_999);
    expect(endpointOf(pool, 'a').window.success).toBe(20);
    vi.advanceTimersByTime(1);
    const after = endpointOf(pool, 'a');
    expect(after.window.success).toBe(10);
    expect(after.latency.samples).toBe(10);
    expect(after.latency.p99Ms).toBeLessThan(10.2);
    vi.advanceTimersByTime(30_000);
    expect(endpointOf(pool, 'a').window.attempts).toBe(0);
    expect(endpointOf(pool, 'a').latency.p50Ms).toBeNull();
    // The averages are not windowed: they keep the last known latency.
    expect(endpointOf(pool, 'a').latency.ewmaMs).not.toBeNull();
  });
});

describe('outcome counting', () => {
  it('counts each result kind separately and computes rates over answered-or-failed attempts', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    pool.record('a', ok(10));
    pool.record('a', ok(20));
    pool.record('a', fail('server'));
    pool.record('a', fail('timeout', 500));
    pool.record('a', fail('config'));
    pool.record('a', fail('rate-limit'));
    pool.record('a', fail('aborted'));
    pool.record('a', fail('aborted'), { abortedAsLoser: true });
    pool.record('a', ok(1), { abortedAsLoser: true });
    const { window, totals, latency, consecutiveFailures } = endpointOf(pool, 'a');
    expect(window).toEqual({
      success: 2,
      error: 1,
      timeout: 1,
      rateLimited: 1,
      rejected: 1,
      cancelled: 1,
      abortedLoser: 2,
      attempts: 9,
      successRate: 2 / 5,
      errorRate: 1 / 5,
      timeoutRate: 1 / 5,
      failureRate: 2 / 5,
      utilisation: 1,
    });
    expect(totals).toEqual({ success: 2, error: 1, timeout: 1, rateLimited: 1, rejected: 1, cancelled: 1, abortedLoser: 2 });
    // Only the two real successes are latency samples: a timeout or a loser says nothing about speed.
    expect(latency.samples).toBe(2);
    expect(consecutiveFailures).toBe(0);
  });

  it('aborted losers do not count as failures, and break a run of failures (the endpoint was alive)', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }], ejection: { consecutiveFailures: 2 } });
    pool.record('a', fail('server'));
    for (let i = 0; i < 10; i++) pool.record('a', fail('aborted', 3), { abortedAsLoser: true });
    const snapshot = endpointOf(pool, 'a');
    expect(snapshot.health).toBe('healthy');
    expect(snapshot.consecutiveFailures).toBe(0);
    expect(snapshot.window.failureRate).toBe(1);
    expect(snapshot.window.abortedLoser).toBe(10);
  });

  it('tracks consecutive failures, reset by a success', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    pool.record('a', fail('server'));
    pool.record('a', fail('timeout'));
    expect(endpointOf(pool, 'a').consecutiveFailures).toBe(2);
    pool.record('a', ok(3));
    expect(endpointOf(pool, 'a').consecutiveFailures).toBe(0);
  });

  it('lets isFailure decide which errors are the endpoint’s fault', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }], isFailure: (error) => error.code !== 'TEST_PROTOCOL' });
    pool.record('a', fail('protocol'));
    pool.record('a', fail('server'));
    expect(endpointOf(pool, 'a').window).toMatchObject({ rejected: 1, error: 1 });
  });

  it('computes utilisation as the share of all the pool’s attempts', () => {
    const pool = createPool({
      endpoints: [
        { id: 'a', target: 'a' },
        { id: 'b', target: 'b' },
        { id: 'c', target: 'c' },
      ],
    });
    pool.record('a', ok(1));
    pool.record('a', ok(1));
    pool.record('a', fail('aborted'), { abortedAsLoser: true });
    pool.record('b', fail('server'));
    const byId = Object.fromEntries(pool.snapshot().endpoints.map((e) => [e.id, e.window.utilisation]));
    expect(byId).toEqual({ a: 0.75, b: 0.25, c: 0 });
  });

  it('counts in-flight attempts from startAttempt until finish, which records once', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    const first = pool.startAttempt('a');
    const second = pool.startAttempt('a');
    expect(endpointOf(pool, 'a').inFlight).toBe(2);
    expect(first.finish(ok(5))).toBe('success');
    expect(first.finish(fail('server'))).toBeUndefined();
    expect(endpointOf(pool, 'a').inFlight).toBe(1);
    expect(second.finish(fail('aborted'), { abortedAsLoser: true })).toBe('aborted-loser');
    const snapshot = endpointOf(pool, 'a');
    expect(snapshot.inFlight).toBe(0);
    expect(snapshot.window).toMatchObject({ attempts: 2, success: 1, error: 0, abortedLoser: 1 });
  });

  it('keeps the last error with the target URL’s secrets redacted', () => {
    const secretUrl = 'https://user:pa55word@rpc.example.com/v2/AbCdEf123456GhIjKl7890MnOp?api-key=t0ps3cr3tk3y';
    const pool = createPool({ endpoints: [{ id: 'provider', target: secretUrl }] });
    pool.record('provider', fail('server', 5, {}, `POST ${secretUrl} answered 503 (key t0ps3cr3tk3y, auth pa55word)`));
    vi.advanceTimersByTime(250);
    const snapshot = endpointOf(pool, 'provider');
    expect(snapshot.lastError).toEqual({ code: 'TEST_SERVER', category: 'server', message: expect.any(String) as string, agoMs: 250 });
    const text = JSON.stringify(snapshot);
    for (const secret of ['pa55word', 'AbCdEf123456GhIjKl7890MnOp', 't0ps3cr3tk3y']) expect(text).not.toContain(secret);
    expect(snapshot.lastError?.message).toContain('rpc.example.com');
    expect(snapshot.label).toBe('https://***@rpc.example.com/v2/***?api-key=***');
  });
});

describe('record input checks', () => {
  it('rejects unknown endpoints and malformed outcomes with XErrors, changing nothing', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    const attempts: Array<[string, unknown, string]> = [
      ['nope', ok(1), 'POOL_UNKNOWN_ENDPOINT'],
      ['a', { ok: true, latencyMs: -1 }, 'POOL_INVALID_OUTCOME'],
      ['a', { ok: true, latencyMs: Number.NaN }, 'POOL_INVALID_OUTCOME'],
      ['a', { ok: 'yes', latencyMs: 1 }, 'POOL_INVALID_OUTCOME'],
      ['a', null, 'POOL_INVALID_OUTCOME'],
    ];
    for (const [id, outcome, code] of attempts) {
      let caught: unknown;
      try {
        pool.record(id, outcome as never);
      } catch (error) {
        caught = error;
      }
      expect(isXError(caught, code)).toBe(true);
      expect((caught as { category: string }).category).toBe('config');
    }
    let unknownUrl: unknown;
    try {
      pool.record('https://rpc.example.com/?api-key=s3cr3tk3y', ok(1));
    } catch (error) {
      unknownUrl = error;
    }
    expect(isXError(unknownUrl, 'POOL_UNKNOWN_ENDPOINT')).toBe(true);
    expect(JSON.stringify(unknownUrl)).not.toContain('s3cr3tk3y');
    expect((unknownUrl as Error).message).toContain('rpc.example.com');
    expect(() => pool.startAttempt('nope')).toThrow(expect.objectContaining({ code: 'POOL_UNKNOWN_ENDPOINT' }) as Error);
    const tracker = pool.startAttempt('a');
    expect(() => tracker.finish({ ok: true, value: undefined, latencyMs: -5 })).toThrow(
      expect.objectContaining({ code: 'POOL_INVALID_OUTCOME' }) as Error,
    );
    // A rejected finish leaves the attempt in flight, so a correct finish still records it.
    expect(tracker.finish(ok(2))).toBe('success');
    // Only the tracked attempt was recorded; none of the rejected inputs left a trace.
    expect(pool.snapshot().endpoints[0]?.window).toMatchObject({ attempts: 1, success: 1 });
  });

  it('wraps a foreign error in an outcome into an XError', () => {
    const pool = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    expect(pool.record('a', { ok: false, latencyMs: 1, error: new Error('boom') as never })).toBe('error');
    expect(pool.snapshot().endpoints[0]?.lastError).toMatchObject({ code: 'POOL_ATTEMPT_FAILED', category: 'server', message: 'boom' });
  });
});
