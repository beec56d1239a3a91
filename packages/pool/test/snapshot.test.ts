import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createPool } from '@x/pool';
import type { Pool, PoolExport, PoolOptions } from '@x/pool';
import { fail, ok } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.parse('2025-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

const options: PoolOptions<string> = {
  endpoints: [
    { id: 'fast', target: 'https://fast.example/v2/AbCdEf123456GhIjKl7890MnOp' },
    { id: 'slow', target: 'https://slow.example', role: 'secondary', weight: 2 },
    { id: 'down', target: 'https://down.example', label: 'down (eu)' },
  ],
  ejection: { consecutiveFailures: 2, baseMs: 10_000 },
};

function warmPool(): Pool<string> {
  const pool = createPool(options);
  for (let i = 0; i < 30; i++) pool.record('fast', ok(5 + (i % 7)));
  for (let i = 0; i < 10; i++) pool.record('slow', ok(80 + i));
  pool.record('slow', fail('timeout', 1_000));
  pool.record('slow', fail('rate-limit', 2, { retryAfterMs: 4_000 }));
  pool.record('down', fail('server', 3, {}, 'HTTP 503'));
  pool.record('down', fail('network', 4, {}, 'ECONNREFUSED'));
  vi.advanceTimersByTime(1_000);
  return pool;
}

describe('snapshot', () => {
  it('is plain JSON with a documented shape', () => {
    const snapshot = warmPool().snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot.degraded).toBe(false);
    expect(snapshot.windowMs).toBe(60_000);
    expect(snapshot.endpoints.map((endpoint) => endpoint.id)).toEqual(['fast', 'slow', 'down']);
    expect(snapshot.endpoints[2]).toEqual({
      id: 'down',
      label: 'down (eu)',
      weight: 1,
      // Of the two unconfigured endpoints, the one without samples is scored at the median: slower than fast.
      role: 'secondary',
      roleSource: 'auto',
      health: 'ejected',
      healthForMs: 1_000,
      ejectedForMs: 9_000,
      ejections: 1,
      ejectionsTotal: 1,
      lastEjectionReason: 'consecutive-failures',
      available: false,
      rank: null,
      score: expect.any(Number) as number,
      coolingDownForMs: 0,
      inFlight: 0,
      consecutiveFailures: 2,
      latency: { samples: 0, ewmaMs: null, peakEwmaMs: null, p50Ms: null, p90Ms: null, p99Ms: null },
      window: {
        success: 0,
        error: 2,
        timeout: 0,
        rateLimited: 0,
        rejected: 0,
        cancelled: 0,
        abortedLoser: 0,
        attempts: 2,
        successRate: 0,
        errorRate: 1,
        timeoutRate: 0,
        failureRate: 1,
        utilisation: 2 / 44,
      },
      totals: { success: 0, error: 2, timeout: 0, rateLimited: 0, rejected: 0, cancelled: 0, abortedLoser: 0 },
      lastError: { code: 'TEST_NETWORK', category: 'network', message: 'ECONNREFUSED', agoMs: 1_000 },
      stream: { deliveries: 0, firsts: 0, samples: 0, firstShare: null, behindP50Ms: null, behindP99Ms: null },
    });
    const [fast, slow] = snapshot.endpoints;
    expect(fast).toMatchObject({ label: 'https://fast.example/v2/***', rank: 1, available: true, role: 'primary', roleSource: 'auto' });
    expect(fast?.latency.samples).toBe(30);
    expect(slow).toMatchObject({
      rank: null,
      available: false,
      coolingDownForMs: 3_000,
      role: 'secondary',
      roleSource: 'configured',
      weight: 2,
    });
  });
});

describe('export / import (warm start)', () => {
  it('round-trips statistics and health through JSON into a new pool', () => {
    const source = warmPool();
    const exported = JSON.parse(JSON.stringify(source.export())) as PoolExport;
    expect(exported.version).toBe(1);
    expect(exported.exportedAt).toBe(Date.parse('2025-01-01T00:00:01Z'));

    const restored = createPool(options);
    expect(restored.import(exported)).toEqual({ imported: ['fast', 'slow', 'down'], unknown: [] });
    const before = source.snapshot();
    const after = restored.snapshot();
    for (const [index, endpoint] of after.endpoints.entries()) {
      const original = before.endpoints[index]!;
      expect(endpoint.latency).toEqual(original.latency);
      expect(endpoint.window).toEqual(original.window);
      expect(endpoint).toMatchObject({
        health: original.health,
        ejectedForMs: original.ejectedForMs,
        ejections: original.ejections,
        lastEjectionReason: original.lastEjectionReason,
        consecutiveFailures: original.consecutiveFailures,
        coolingDownForMs: original.coolingDownForMs,
        lastError: original.lastError,
        rank: original.rank,
        score: original.score,
      });
    }
    // The restored pool goes on exactly as the old one would have: down probes after its ejection.
    vi.advanceTimersByTime(9_000);
    expect(restored.snapshot().endpoints[2]?.health).toBe('probing');
  });

  it('subtracts the time between export and import from ejections and cool-downs', () => {
    const exported = warmPool().export();
    vi.advanceTimersByTime(2_500);
    const restored = createPool(options);
    restored.import(exported);
    const [, slow, down] = restored.snapshot().endpoints;
    expect(slow?.coolingDownForMs).toBe(500);
    expect(down?.ejectedForMs).toBe(6_500);
    expect(down?.lastError?.agoMs).toBe(3_500);
    vi.advanceTimersByTime(10_000);
    const late = createPool(options);
    late.import(exported);
    expect(late.snapshot().endpoints[2]?.health).toBe('probing');
  });

  it('ignores endpoints the new pool does not have and leaves its other endpoints alone', () => {
    const exported = warmPool().export();
    const other = createPool({
      endpoints: [
        { id: 'fast', target: 'https://fast.example' },
        { id: 'new', target: 'https://new.example' },
      ],
    });
    expect(other.import(exported)).toEqual({ imported: ['fast'], unknown: ['slow', 'down'] });
    expect(other.snapshot().endpoints[1]?.window.attempts).toBe(0);
  });

  it('rejects malformed data with POOL_INVALID_IMPORT and changes nothing', () => {
    const pool = warmPool();
    const good = pool.export();
    const snapshotBefore = JSON.stringify(pool.snapshot());
    const broken: unknown[] = [
      null,
      'x',
      { ...good, version: 2 },
      { ...good, endpoints: 'no' },
      { ...good, endpoints: [...good.endpoints, { ...good.endpoints[0], window: { ...good.endpoints[0]!.window, success: -1 } }] },
      { ...good, endpoints: [good.endpoints[0], good.endpoints[0]] },
      { ...good, endpoints: [{ ...good.endpoints[1], health: 'zombie' }] },
      { ...good, endpoints: [{ ...good.endpoints[1], health: 'ejected', ejectedForMs: null }] },
      { ...good, endpoints: [{ ...good.endpoints[0], latency: { ...good.endpoints[0]!.latency, bins: [[1, 2, 3]] } }] },
      { ...good, endpoints: [{ ...good.endpoints[2], lastError: { code: 'X', category: 'weird', message: 'm', agoMs: 1 } }] },
    ];
    for (const data of broken) {
      let caught: unknown;
      try {
        pool.import(data);
      } catch (error) {
        caught = error;
      }
      expect(isXError(caught, 'POOL_INVALID_IMPORT')).toBe(true);
    }
    expect(JSON.stringify(pool.snapshot())).toBe(snapshotBefore);
  });
});
