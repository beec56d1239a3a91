import { describe, expect, it } from 'vitest';
import { isXError } from '@x/errors';
import { DEFAULT_COOLDOWN, DEFAULT_EJECTION, DEFAULT_HEDGE, DEFAULT_SCORING, DEFAULT_STATISTICS, createPool } from '@x/pool';

function creationError(options: unknown): unknown {
  try {
    createPool(options as never);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('createPool options', () => {
  it('documents its defaults', () => {
    expect(DEFAULT_EJECTION).toEqual({
      consecutiveFailures: 5,
      errorRate: 0.5,
      minSamples: 20,
      baseMs: 10_000,
      factor: 2,
      maxMs: 300_000,
      memoryMs: 600_000,
      probeConcurrency: 1,
      probeIntervalMs: 1_000,
      recoverySuccesses: 3,
      maxEjectedShare: 0.5,
    });
    expect(DEFAULT_COOLDOWN).toEqual({ defaultMs: 1_000, maxMs: 60_000 });
    expect(DEFAULT_STATISTICS).toEqual({
      windowMs: 60_000,
      windowBuckets: 6,
      ewmaHalfLifeSamples: 10,
      peakHalfLifeMs: 10_000,
      quantileAccuracy: 0.01,
    });
    expect(DEFAULT_SCORING).toEqual({ errorPenalty: 10, inFlightPenalty: 1 });
    expect(DEFAULT_HEDGE).toEqual({ quantile: 0.95, minSamples: 10, defaultDelayMs: 50, minDelayMs: 2, maxDelayMs: 5_000 });
  });

  it.each([
    ['no options', undefined],
    ['no endpoints', { endpoints: [] }],
    ['endpoints not an array', { endpoints: 'a' }],
    ['endpoint not an object', { endpoints: [1] }],
    ['empty id', { endpoints: [{ id: '', target: 'a' }] }],
    [
      'duplicate id',
      {
        endpoints: [
          { id: 'a', target: 1 },
          { id: 'a', target: 2 },
        ],
      },
    ],
    ['missing target', { endpoints: [{ id: 'a' }] }],
    ['bad role', { endpoints: [{ id: 'a', target: 1, role: 'leader' }] }],
    ['zero weight', { endpoints: [{ id: 'a', target: 1, weight: 0 }] }],
    ['empty label', { endpoints: [{ id: 'a', target: 1, label: '' }] }],
    ['negative threshold', { endpoints: [{ id: 'a', target: 1 }], ejection: { consecutiveFailures: -1 } }],
    ['error rate of 1.5', { endpoints: [{ id: 'a', target: 1 }], ejection: { errorRate: 1.5 } }],
    ['factor below 1', { endpoints: [{ id: 'a', target: 1 }], ejection: { factor: 0.5 } }],
    ['max below base', { endpoints: [{ id: 'a', target: 1 }], ejection: { baseMs: 10, maxMs: 5 } }],
    ['fractional buckets', { endpoints: [{ id: 'a', target: 1 }], statistics: { windowBuckets: 2.5 } }],
    ['NaN window', { endpoints: [{ id: 'a', target: 1 }], statistics: { windowMs: Number.NaN } }],
    ['hedge max below min', { endpoints: [{ id: 'a', target: 1 }], hedge: { minDelayMs: 10, maxDelayMs: 1 } }],
    ['bad metric prefix', { endpoints: [{ id: 'a', target: 1 }], metricsPrefix: 'my-pool' }],
    ['reserved metric label', { endpoints: [{ id: 'a', target: 1 }], metricsLabels: { endpoint: 'x' } }],
    ['non-function clock', { endpoints: [{ id: 'a', target: 1 }], now: 5 }],
  ])('rejects %s with POOL_INVALID_OPTIONS', (_, options) => {
    const error = creationError(options);
    expect(isXError(error, 'POOL_INVALID_OPTIONS')).toBe(true);
    expect((error as { category: string }).category).toBe('config');
  });

  it('refuses an id that carries a secret of its URL target, without echoing it', () => {
    const url = 'https://rpc.example.com/?api-key=k3yk3yk3y';
    const error = creationError({ endpoints: [{ id: url, target: url }] });
    expect(isXError(error, 'POOL_INVALID_OPTIONS')).toBe(true);
    expect(JSON.stringify(error)).not.toContain('k3yk3yk3y');
    expect((error as Error).message).not.toContain('k3yk3yk3y');
  });

  it('redacts secrets from user labels and labels URL targets by their redacted URL', () => {
    const url = 'https://rpc.example.com/?api-key=k3yk3yk3y';
    const pool = createPool<string | URL>({
      endpoints: [
        { id: 'a', target: url, label: 'helius k3yk3yk3y' },
        { id: 'b', target: new URL(url) },
        { id: 'c', target: 'not a url' },
      ],
    });
    expect(pool.endpoints.map((endpoint) => endpoint.label)).toEqual(['helius ***', 'https://rpc.example.com?api-key=***', 'c']);
  });
});
