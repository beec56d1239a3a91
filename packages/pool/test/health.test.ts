import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPool } from '@x/pool';
import type { EndpointSnapshot, Pool, PoolOptions } from '@x/pool';
import { fail, ok } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function endpointOf(pool: Pool<unknown>, id: string): EndpointSnapshot {
  const found = pool.snapshot().endpoints.find((endpoint) => endpoint.id === id);
  if (found === undefined) throw new Error(`no endpoint ${id}`);
  return found;
}

function twoEndpoints(ejection: PoolOptions<string>['ejection']): Pool<string> {
  return createPool({
    endpoints: [
      { id: 'a', target: 'a' },
      { id: 'b', target: 'b' },
    ],
    ejection,
  });
}

const ids = (pool: Pool<string>): string[] => pool.select().endpoints.map((endpoint) => endpoint.id);

describe('health state machine', () => {
  it('ejects after N consecutive failures and stops selecting the endpoint', () => {
    const pool = twoEndpoints({ consecutiveFailures: 3, baseMs: 10_000 });
    pool.record('a', fail('server'));
    pool.record('a', fail('timeout'));
    expect(endpointOf(pool, 'a').health).toBe('healthy');
    pool.record('a', fail('network'));
    expect(endpointOf(pool, 'a')).toMatchObject({
      health: 'ejected',
      ejectedForMs: 10_000,
      ejections: 1,
      ejectionsTotal: 1,
      lastEjectionReason: 'consecutive-failures',
      available: false,
      rank: null,
    });
    expect(ids(pool)).toEqual(['b']);
  });

  it('ejects on an error rate over the threshold only once the window has the minimum volume', () => {
    const pool = twoEndpoints({ consecutiveFailures: 100, errorRate: 0.5, minSamples: 10 });
    for (let i = 0; i < 4; i++) {
      pool.record('a', fail('server'));
      pool.record('a', ok(5));
    }
    pool.record('a', fail('server'));
    // 5 failures in 9: over the rate but under the volume.
    expect(endpointOf(pool, 'a').health).toBe('healthy');
    pool.record('a', ok(5));
    // 5 in 10 = 0.5, but the check runs on failures: still healthy until the next one.
    expect(endpointOf(pool, 'a').health).toBe('healthy');
    pool.record('a', fail('timeout'));
    expect(endpointOf(pool, 'a')).toMatchObject({ health: 'ejected', lastEjectionReason: 'error-rate' });
  });

  it('does not let rate limits, cancellations or aborted losers eject', () => {
    const pool = twoEndpoints({ consecutiveFailures: 2, errorRate: 0.1, minSamples: 1 });
    for (let i = 0; i < 5; i++) {
      pool.record('a', fail('rate-limit', 1, { retryAfterMs: 0 }));
      pool.record('a', fail('aborted'));
      pool.record('a', fail('aborted'), { abortedAsLoser: true });
    }
    expect(endpointOf(pool, 'a')).toMatchObject({ health: 'healthy', consecutiveFailures: 0 });
  });

  it('moves to probing after the ejection time, lets a limited number of attempts through, and recovers after K successes', () => {
    const pool = twoEndpoints({ consecutiveFailures: 1, baseMs: 5_000, probeConcurrency: 1, recoverySuccesses: 2 });
    pool.record('a', fail('server'));
    vi.advanceTimersByTime(4_999);
    expect(endpointOf(pool, 'a')).toMatchObject({ health: 'ejected', ejectedForMs: 1 });
    vi.advanceTimersByTime(1);
    expect(endpointOf(pool, 'a')).toMatchObject({ health: 'probing', ejectedForMs: null, available: true });
    // A probe that is due ranks first, so that whatever the traffic, some call tries it.
    expect(ids(pool)).toEqual(['a', 'b']);

    const probe = pool.startAttempt('a');
    expect(endpointOf(pool, 'a').available).toBe(false);
    expect(ids(pool)).toEqual(['b']);
    probe.finish(ok(5));
    expect(endpointOf(pool, 'a')).toMatchObject({ health: 'probing', available: true });
    // Until the next probe is due (probeIntervalMs), it ranks after the healthy endpoints.
    expect(ids(pool)).toEqual(['b', 'a']);
    pool.startAttempt('a').finish(ok(5));
    const recovered = endpointOf(pool, 'a');
    expect(recovered.health).toBe('healthy');
    // The failure that caused the ejection no longer counts against it.
    expect(recovered.window).toMatchObject({ error: 0, failureRate: 0 });
    expect(recovered.consecutiveFailures).toBe(0);
  });

  it('ejects again for longer after a failed probe: base × factor^(n−1), capped', () => {
    const pool = twoEndpoints({ consecutiveFailures: 1, baseMs: 1_000, factor: 3, maxMs: 5_000 });
    const expected = [1_000, 3_000, 5_000, 5_000];
    pool.record('a', fail('server'));
    for (const [index, duration] of expected.entries()) {
      expect(endpointOf(pool, 'a')).toMatchObject({ health: 'ejected', ejectedForMs: duration, ejections: index + 1 });
      vi.advanceTimersByTime(duration);
      expect(endpointOf(pool, 'a').health).toBe('probing');
      pool.record('a', fail('timeout'));
    }
    expect(endpointOf(pool, 'a')).toMatchObject({ lastEjectionReason: 'probe-failed', ejectionsTotal: 5 });
  });

  it('forgets earlier ejections after a long healthy spell, so the next one is short again', () => {
    const pool = twoEndpoints({ consecutiveFailures: 1, baseMs: 1_000, factor: 2, recoverySuccesses: 1, memoryMs: 60_000 });
    pool.record('a', fail('server'));
    vi.advanceTimersByTime(1_000);
    pool.record('a', fail('server'));
    expect(endpointOf(pool, 'a').ejectedForMs).toBe(2_000);
    vi.advanceTimersByTime(2_000);
    pool.record('a', ok(1));
    expect(endpointOf(pool, 'a')).toMatchObject({ health: 'healthy', ejections: 2 });
    vi.advanceTimersByTime(59_999);
    expect(endpointOf(pool, 'a').ejections).toBe(2);
    vi.advanceTimersByTime(1);
    expect(endpointOf(pool, 'a').ejections).toBe(0);
    pool.record('a', fail('server'));
    expect(endpointOf(pool, 'a')).toMatchObject({ ejectedForMs: 1_000, ejections: 1, ejectionsTotal: 3 });
  });

  it('does not recover an ejected endpoint on a late success; it has to probe first', () => {
    const pool = twoEndpoints({ consecutiveFailures: 1, recoverySuccesses: 1 });
    pool.record('a', fail('server'));
    pool.record('a', ok(1));
    expect(endpointOf(pool, 'a').health).toBe('ejected');
  });

  it('never leaves the pool without endpoints: falls back to the least bad and says so', () => {
    const pool = twoEndpoints({ consecutiveFailures: 1, baseMs: 10_000, factor: 2 });
    pool.record('a', fail('server'));
    vi.advanceTimersByTime(10_000);
    pool.record('a', fail('server')); // a: ejected for 20 s
    vi.advanceTimersByTime(5_000);
    pool.record('b', fail('server')); // b: ejected for 10 s, back before a
    const selection = pool.select();
    expect(selection).toEqual({ endpoints: [expect.objectContaining({ id: 'b' })], degraded: true });
    expect(pool.select({ minCandidates: 2 }).endpoints.map((endpoint) => endpoint.id)).toEqual(['b', 'a']);
    const snapshot = pool.snapshot();
    expect(snapshot.degraded).toBe(true);
    expect(snapshot.endpoints.every((endpoint) => endpoint.health === 'ejected')).toBe(true);

    vi.advanceTimersByTime(10_000);
    expect(pool.select()).toEqual({ endpoints: [expect.objectContaining({ id: 'b' })], degraded: false });
    expect(pool.snapshot().degraded).toBe(false);
  });

  it('fills up to minCandidates with unavailable endpoints only when too few are available', () => {
    const pool = createPool({
      endpoints: [
        { id: 'a', target: 'a' },
        { id: 'b', target: 'b' },
        { id: 'c', target: 'c' },
      ],
      ejection: { consecutiveFailures: 1 },
    });
    pool.record('c', fail('server'));
    expect(pool.select({ minCandidates: 2 })).toMatchObject({ degraded: false });
    const three = pool.select({ minCandidates: 3 });
    expect(three.degraded).toBe(true);
    expect(three.endpoints.map((endpoint) => endpoint.id)).toEqual(['a', 'b', 'c']);
  });
});
