import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPool } from '@x/pool';
import type { Pool, PoolAttemptFn } from '@x/pool';

/** An endpoint that accepts the request and never answers (a hung connection); the others answer in 5 ms. */
const hungFirst: PoolAttemptFn<string, string> = (endpoint, { signal }) =>
  new Promise<string>((resolve, reject) => {
    const timer = endpoint.id === 'hung' ? undefined : setTimeout(() => resolve(endpoint.id), 5);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });

function makePool(): Pool<string> {
  // Listed first, so that a fresh pool ranks it first.
  return createPool({ endpoints: ['hung', 'b', 'c'].map((id) => ({ id, target: `https://${id}.example` })) });
}

async function settled<T>(promise: Promise<T>): Promise<{ ok: boolean; value?: T; error?: unknown }> {
  const outcome = promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
  await vi.advanceTimersByTimeAsync(2_000);
  return outcome;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('an endpoint that never answers within the call’s deadline', () => {
  it.each(['race', 'hedge'] as const)(
    'is counted as a timeout, so the next %s call with one candidate goes elsewhere',
    async (strategy) => {
      const pool = makePool();
      const options = { strategy, deadlineMs: 1_000, maxCandidates: 1 } as const;

      const first = await settled(pool.execute(hungFirst, options));
      expect(first).toMatchObject({ ok: false, error: { code: 'STRATEGY_DEADLINE_EXCEEDED' } });
      const hung = pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'hung')!;
      expect(hung.totals).toMatchObject({ timeout: 1, abortedLoser: 0 });
      expect(hung.consecutiveFailures).toBe(1);

      // Without that, a hung endpoint stays first in the ranking and every call waits out its deadline.
      const second = await settled(pool.execute(hungFirst, options));
      expect(second).toMatchObject({ ok: true, value: { value: 'b' } });
      expect(
        pool
          .select()
          .endpoints.map((endpoint) => endpoint.id)
          .at(-1),
      ).toBe('hung');
    },
  );

  it('still counts attempts cut because another one won, or because the caller aborted, as neither', async () => {
    const pool = makePool();
    await settled(pool.execute(hungFirst, { strategy: 'race', deadlineMs: 1_000 }));
    const controller = new AbortController();
    const aborted = pool.execute(hungFirst, { strategy: 'race', maxCandidates: 1, signal: controller.signal, minCandidates: 1 });
    const outcome = aborted.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1);
    controller.abort();
    expect(await outcome).toMatchObject({ code: 'ABORTED' });
    const hung = pool.snapshot().endpoints.find((endpoint) => endpoint.id === 'hung')!;
    expect(hung.totals).toMatchObject({ timeout: 0, error: 0, abortedLoser: 2 });
  });
});
