import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRetryAfter } from '@x/http-transport';
import { createPool } from '@x/pool';
import type { Pool } from '@x/pool';
import { fail, ok } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function twoEndpoints(cooldown?: { defaultMs?: number; maxMs?: number }): Pool<string> {
  return createPool({
    endpoints: [
      { id: 'a', target: 'a' },
      { id: 'b', target: 'b' },
    ],
    cooldown,
  });
}

const ids = (pool: Pool<string>): string[] => pool.select().endpoints.map((endpoint) => endpoint.id);
const cooling = (pool: Pool<string>, id: string): number | undefined =>
  pool.snapshot().endpoints.find((e) => e.id === id)?.coolingDownForMs;

describe('rate-limit cool-down', () => {
  it('honours Retry-After in seconds: not selected until it has passed, and not a failure', () => {
    const pool = twoEndpoints();
    pool.record('b', ok(50)); // make a the better endpoint until it is rate limited
    pool.record('a', ok(5));
    expect(ids(pool)).toEqual(['a', 'b']);
    pool.record('a', fail('rate-limit', 3, { status: 429, retryAfterMs: parseRetryAfter('3') }));
    expect(ids(pool)).toEqual(['b']);
    expect(cooling(pool, 'a')).toBe(3_000);
    const snapshot = pool.snapshot().endpoints[0]!;
    expect(snapshot).toMatchObject({ health: 'healthy', consecutiveFailures: 0, available: false });
    expect(snapshot.window).toMatchObject({ rateLimited: 1, failureRate: 0 });
    expect(snapshot.lastError).toMatchObject({ category: 'rate-limit' });

    vi.advanceTimersByTime(2_999);
    expect(ids(pool)).toEqual(['b']);
    vi.advanceTimersByTime(1);
    expect(ids(pool)).toEqual(['a', 'b']);
    expect(cooling(pool, 'a')).toBe(0);
  });

  it('honours Retry-After as an HTTP date', () => {
    const pool = twoEndpoints();
    vi.setSystemTime(Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'));
    const retryAfterMs = parseRetryAfter('Wed, 21 Oct 2015 07:28:45 GMT');
    pool.record('a', fail('rate-limit', 3, { status: 429, retryAfterMs }));
    expect(cooling(pool, 'a')).toBe(45_000);
    vi.advanceTimersByTime(44_999);
    expect(ids(pool)).toEqual(['b']);
    vi.advanceTimersByTime(1);
    expect(ids(pool)).toEqual(['a', 'b']);
  });

  it('uses the default cool-down without retryAfterMs, caps huge ones, and never shortens a running one', () => {
    const pool = twoEndpoints({ defaultMs: 2_000, maxMs: 10_000 });
    pool.record('a', fail('rate-limit'));
    expect(cooling(pool, 'a')).toBe(2_000);
    pool.record('a', fail('rate-limit', 1, { retryAfterMs: 3_600_000 }));
    expect(cooling(pool, 'a')).toBe(10_000);
    pool.record('a', fail('rate-limit', 1, { retryAfterMs: 1_000 }));
    expect(cooling(pool, 'a')).toBe(10_000);
    pool.record('a', fail('rate-limit', 1, { retryAfterMs: 'soon' }));
    expect(cooling(pool, 'a')).toBe(10_000);
  });

  it('selects a cooling-down endpoint only when everything is unavailable, soonest free first', () => {
    const pool = twoEndpoints();
    pool.record('a', fail('rate-limit', 1, { retryAfterMs: 5_000 }));
    pool.record('b', fail('rate-limit', 1, { retryAfterMs: 1_000 }));
    expect(pool.select({ minCandidates: 2 })).toEqual({
      endpoints: [expect.objectContaining({ id: 'b' }), expect.objectContaining({ id: 'a' })],
      degraded: true,
    });
    expect(pool.snapshot().degraded).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(pool.select()).toEqual({ endpoints: [expect.objectContaining({ id: 'b' })], degraded: false });
  });
});
