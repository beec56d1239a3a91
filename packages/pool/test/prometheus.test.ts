import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { createPool } from '@x/pool';
import { expectedQuantileRange, fail, findSample, ok, parsePrometheus } from './helpers.js';

const SECRET_URL = 'https://user:pa55word@rpc.example.com/v2/AbCdEf123456GhIjKl7890MnOp?api-key=t0ps3cr3tk3y';
const SECRETS = ['pa55word', 'AbCdEf123456GhIjKl7890MnOp', 't0ps3cr3tk3y', 'user:'];

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function busyPool() {
  const pool = createPool<string | { host: string; port: number }>({
    endpoints: [
      { id: 'secret', target: SECRET_URL },
      { id: 'raida', target: { host: '127.0.0.1', port: 18000 }, label: 'RAIDA "0"\\main' },
    ],
    ejection: { consecutiveFailures: 2 },
    metricsLabels: { pool: 'solana' },
  });
  for (let ms = 1; ms <= 100; ms++) pool.record('secret', ok(ms));
  pool.record('secret', fail('timeout', 100, {}, `timeout calling ${SECRET_URL}`));
  pool.record('secret', fail('rate-limit', 3, { retryAfterMs: 2_500 }, `429 from ${SECRET_URL}`));
  pool.record('secret', fail('aborted'), { abortedAsLoser: true });
  pool.record('raida', fail('network'));
  pool.record('raida', fail('network'));
  pool.startAttempt('raida');
  return pool;
}

describe('Prometheus exposition', () => {
  it('exposes every endpoint statistic, parseable and consistent with the snapshot', async () => {
    const pool = busyPool();
    const text = await pool.metrics();
    const { samples, types } = parsePrometheus(text);
    const secret = { endpoint: 'secret', label: 'https://***@rpc.example.com/v2/***?api-key=***', pool: 'solana' };
    const raida = { endpoint: 'raida', label: 'RAIDA "0"\\main', pool: 'solana' };
    const value = (name: string, labels: Record<string, string>): number | undefined => findSample(samples, name, labels)?.value;

    expect(types.get('x_pool_endpoint_attempts_total')).toBe('counter');
    expect(types.get('x_pool_endpoint_latency_seconds')).toBe('gauge');
    expect(value('x_pool_endpoint_attempts_total', { ...secret, result: 'success' })).toBe(100);
    expect(value('x_pool_endpoint_attempts_total', { ...secret, result: 'timeout' })).toBe(1);
    expect(value('x_pool_endpoint_attempts_total', { ...secret, result: 'rate_limited' })).toBe(1);
    expect(value('x_pool_endpoint_attempts_total', { ...secret, result: 'aborted_loser' })).toBe(1);
    expect(value('x_pool_endpoint_attempts_total', { ...secret, result: 'error' })).toBe(0);
    expect(value('x_pool_endpoint_attempts_total', { ...raida, result: 'error' })).toBe(2);

    const p50 = value('x_pool_endpoint_latency_seconds', { ...secret, quantile: '0.5' });
    const p99 = value('x_pool_endpoint_latency_seconds', { ...secret, quantile: '0.99' });
    const seconds = Array.from({ length: 100 }, (_, index) => (index + 1) / 1000);
    for (const [quantile, sample] of [
      [0.5, p50],
      [0.99, p99],
    ] as const) {
      const [low, high] = expectedQuantileRange(seconds, quantile);
      expect(sample).toBeGreaterThanOrEqual(low);
      expect(sample).toBeLessThanOrEqual(high);
    }
    // No latency series at all for an endpoint without successes, rather than a made-up 0.
    expect(findSample(samples, 'x_pool_endpoint_latency_seconds', { endpoint: 'raida' })).toBeUndefined();
    expect(value('x_pool_endpoint_latency_samples', secret)).toBe(100);

    expect(value('x_pool_endpoint_health', { ...raida, state: 'ejected' })).toBe(1);
    expect(value('x_pool_endpoint_health', { ...raida, state: 'healthy' })).toBe(0);
    expect(value('x_pool_endpoint_health', { ...secret, state: 'healthy' })).toBe(1);
    expect(value('x_pool_endpoint_ejections_total', raida)).toBe(1);
    expect(value('x_pool_endpoint_available', secret)).toBe(0); // cooling down
    expect(value('x_pool_endpoint_cooldown_seconds', secret)).toBe(2.5);
    expect(value('x_pool_endpoint_in_flight', raida)).toBe(1);
    expect(value('x_pool_endpoint_consecutive_failures', raida)).toBe(2);
    expect(value('x_pool_endpoint_timeout_rate', secret)).toBeCloseTo(1 / 101, 12);
    expect(value('x_pool_endpoint_error_rate', raida)).toBe(1);
    expect(value('x_pool_endpoint_utilisation', secret)).toBeCloseTo(103 / 105, 12);
    expect(value('x_pool_degraded', { pool: 'solana' })).toBe(1);

    const snapshot = pool.snapshot();
    expect(value('x_pool_endpoint_score', secret)).toBe(snapshot.endpoints[0]?.score);
    expect(value('x_pool_endpoint_latency_ewma_seconds', secret)).toBeCloseTo(snapshot.endpoints[0]!.latency.ewmaMs! / 1000, 12);

    vi.advanceTimersByTime(2_500);
    const later = parsePrometheus(await pool.metrics()).samples;
    expect(findSample(later, 'x_pool_endpoint_available', secret)?.value).toBe(1);
    expect(findSample(later, 'x_pool_degraded', {})?.value).toBe(0);
  });

  it('never puts a secret of a URL target into the exposition', async () => {
    const text = await busyPool().metrics();
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).toContain('rpc.example.com');
  });

  it('uses a registry per pool, never the global default one', async () => {
    const first = createPool({ endpoints: [{ id: 'a', target: 'a' }] });
    const second = createPool({ endpoints: [{ id: 'b', target: 'b' }], metricsPrefix: 'bot_' });
    first.record('a', ok(1));
    expect(first.registry).not.toBe(second.registry);
    expect(await globalRegistry.metrics()).not.toContain('x_pool_');
    const firstSamples = parsePrometheus(await first.metrics()).samples;
    expect(firstSamples.some((sample) => sample.labels.endpoint === 'b')).toBe(false);
    const secondText = await second.metrics();
    expect(secondText).toContain('bot_endpoint_attempts_total');
    expect(secondText).not.toContain('x_pool_');
    expect(first.registry.contentType).toContain('text/plain');
  });
});
