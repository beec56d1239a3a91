import { XError } from '@x/errors';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPool } from '@x/pool';
import type { PoolAttemptFn } from '@x/pool';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Every endpoint answers in 5 ms of (fake) time unless `down` says it fails at once. */
const answering =
  (down: ReadonlySet<string>): PoolAttemptFn<string, string> =>
  (endpoint, { signal }) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => (down.has(endpoint.id) ? reject(new Error('connection refused')) : resolve(endpoint.id)), 5);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      });
    });

describe('a recovered provider returns whatever the traffic', () => {
  it.each(['hedge', 'single'] as const)('under %s-only traffic, a probing endpoint is probed and becomes healthy again', async (kind) => {
    const pool = createPool({
      endpoints: ['a', 'b'].map((id) => ({ id, target: id })),
      ejection: { consecutiveFailures: 1, baseMs: 10_000 },
      // No hedges at all: only the first-ranked endpoint of each call is ever tried.
      hedgeBudget: { ratio: 0, minPerSecond: 0 },
    });
    const down = new Set(['b']);
    pool.record('b', { ok: false, latencyMs: 1, error: new XError({ code: 'TEST_DOWN', category: 'network', message: 'down' }) });
    expect(pool.snapshot().endpoints[1]?.health).toBe('ejected');
    down.clear(); // b has recovered
    const options =
      kind === 'hedge' ? ({ strategy: 'hedge', hedgeDelayMs: 20 } as const) : ({ strategy: 'race', maxCandidates: 1 } as const);
    // One call every 100 ms for a minute.
    for (let call = 0; call < 600; call++) {
      const outcome = pool.execute(answering(down), options).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(100);
      await outcome;
    }
    const b = pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'b');
    expect(b?.health).toBe('healthy');
    expect(b?.totals.success).toBeGreaterThanOrEqual(3);
  });
});
