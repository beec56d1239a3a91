import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isXError } from '@x/errors';
import { createPool } from '@x/pool';
import type { Pool } from '@x/pool';
import { fail, findSample, parsePrometheus } from './helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function streamPool(): Pool<string> {
  return createPool({
    endpoints: [
      { id: 'a', target: 'wss://a.example/v1/AbCdEf123456GhIjKl7890MnOp' },
      { id: 'b', target: 'wss://b.example' },
      { id: 'c', target: 'wss://c.example' },
    ],
    ejection: { consecutiveFailures: 2, baseMs: 10_000 },
  });
}

/** 100 events: `a` first 70 times (b 20 ms behind), `b` first 30 times (a 5 ms behind); `c` always 200 ms behind. */
function feed(pool: Pool<string>): void {
  for (let i = 0; i < 100; i++) {
    const aFirst = i % 10 < 7;
    pool.recordDelivery(aFirst ? 'a' : 'b', { first: true, behindMs: 0 });
    pool.recordDelivery(aFirst ? 'b' : 'a', { first: false, behindMs: aFirst ? 20 : 5 });
    pool.recordDelivery('c', { first: false, behindMs: 200 });
  }
}

describe('stream lead statistics', () => {
  it('are recorded per endpoint and shown in the snapshot', () => {
    const pool = streamPool();
    feed(pool);
    const byId = new Map(pool.snapshot().endpoints.map((e) => [e.id, e.stream]));
    expect(byId.get('a')).toMatchObject({ deliveries: 100, firsts: 70, samples: 100, firstShare: 0.7, behindP50Ms: 0 });
    expect(byId.get('a')?.behindP99Ms).toBeCloseTo(5, 0);
    expect(byId.get('b')).toMatchObject({ deliveries: 100, firsts: 30, firstShare: 0.3 });
    expect(byId.get('b')?.behindP50Ms).toBeCloseTo(20, 0);
    expect(byId.get('c')).toMatchObject({ deliveries: 100, firsts: 0, firstShare: 0 });
    expect(byId.get('c')?.behindP99Ms).toBeCloseTo(200, -1);
  });

  it('keep lifetime counts while the window forgets old deliveries', () => {
    const pool = streamPool();
    feed(pool);
    vi.advanceTimersByTime(61_000);
    const a = pool.snapshot().endpoints.find((e) => e.id === 'a')?.stream;
    expect(a).toEqual({ deliveries: 100, firsts: 70, samples: 0, firstShare: null, behindP50Ms: null, behindP99Ms: null });
  });

  it('a late copy reported with first: true counts as first and 0 ms behind; bad input records nothing', () => {
    const pool = streamPool();
    pool.recordDelivery('a', { first: true, behindMs: 40 });
    expect(pool.snapshot().endpoints[0]?.stream.behindP99Ms).toBe(0);
    for (const bad of [null, {}, { first: 'yes', behindMs: 1 }, { first: false, behindMs: -1 }, { first: false, behindMs: Number.NaN }]) {
      let caught: unknown;
      try {
        pool.recordDelivery('b', bad as never);
      } catch (error) {
        caught = error;
      }
      expect(isXError(caught, 'POOL_INVALID_DELIVERY') && caught.context.option).toBe('delivery');
    }
    expect(() => pool.recordDelivery('nope', { first: true, behindMs: 0 })).toThrow(/No endpoint with id/);
    expect(pool.snapshot().endpoints[1]?.stream.deliveries).toBe(0);
  });

  it('are exported as Prometheus metrics', async () => {
    const pool = streamPool();
    feed(pool);
    const { samples, types } = parsePrometheus(await pool.metrics());
    const value = (name: string, labels: Record<string, string>): number | undefined => findSample(samples, name, labels)?.value;
    expect(types.get('x_pool_endpoint_stream_deliveries_total')).toBe('counter');
    expect(value('x_pool_endpoint_stream_deliveries_total', { endpoint: 'a' })).toBe(100);
    expect(value('x_pool_endpoint_stream_firsts_total', { endpoint: 'a' })).toBe(70);
    expect(value('x_pool_endpoint_stream_first_share', { endpoint: 'b' })).toBeCloseTo(0.3);
    expect(value('x_pool_endpoint_stream_behind_seconds', { endpoint: 'c', quantile: '0.99' })).toBeCloseTo(0.2, 1);
    expect(value('x_pool_endpoint_stream_behind_seconds', { endpoint: 'a', quantile: '0.5' })).toBe(0);
    // The label is redacted as everywhere else.
    expect(samples.some((s) => s.labels.label?.includes('AbCdEf123456'))).toBe(false);
  });
});

describe('selectForStreams', () => {
  it('prefers the endpoints that lead most often and are least behind', () => {
    const pool = streamPool();
    feed(pool);
    expect(pool.selectForStreams().endpoints.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(pool.selectForStreams({ maxCandidates: 2 }).endpoints.map((e) => e.id)).toEqual(['a', 'b']);
    // b takes the lead: it ranks first.
    for (let i = 0; i < 300; i++) {
      pool.recordDelivery('b', { first: true, behindMs: 0 });
      pool.recordDelivery('a', { first: false, behindMs: 30 });
    }
    expect(pool.selectForStreams({ maxCandidates: 1 }).endpoints.map((e) => e.id)).toEqual(['b']);
  });

  it('tries an endpoint not yet measured first, and leaves unavailable ones last', () => {
    const pool = streamPool();
    for (let i = 0; i < 20; i++) {
      pool.recordDelivery('a', { first: true, behindMs: 0 });
      pool.recordDelivery('b', { first: false, behindMs: 10 });
    }
    expect(pool.selectForStreams({ maxCandidates: 2 }).endpoints.map((e) => e.id)).toEqual(['c', 'a']);
    expect(pool.selectForStreams({ maxCandidates: 2, minSamples: 1_000 }).endpoints.map((e) => e.id)).toEqual(['a', 'b']);
    pool.record('c', fail('network'));
    pool.record('c', fail('network'));
    expect(pool.selectForStreams().endpoints.map((e) => e.id)).toEqual(['a', 'b']);
    expect(pool.selectForStreams({ minCandidates: 3 })).toMatchObject({ degraded: true });
    expect(() => pool.selectForStreams({ minSamples: 0 })).toThrow(/minSamples/);
  });

  it('keeps an endpoint that is cooling down after a 429 (calls only), leaves a suspect one out', () => {
    const pool = streamPool();
    pool.record('a', fail('rate-limit', 3, { retryAfterMs: 30_000 }));
    expect(pool.select().endpoints.map((e) => e.id)).toEqual(['b', 'c']);
    // Still chosen for streams (none measured yet: in the calls' order, where its cool-down puts it last).
    expect(pool.selectForStreams().endpoints.map((e) => e.id)).toEqual(['b', 'c', 'a']);
    pool.suspect('b');
    expect(pool.selectForStreams().endpoints.map((e) => e.id)).toEqual(['c', 'a']);
  });
});
